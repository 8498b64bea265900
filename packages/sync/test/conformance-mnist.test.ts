/**
 * Conformance, part 3: a small MNIST MLP (784-32-10) with the runtime's real forward and backward on
 * onnxruntime's CPU backend, over four real meshes on 127.0.0.1. Every algorithm brings the held-out
 * loss well down from where it starts, each replica on its own shuffle of the data; and S-SGD on four
 * replicas, with nothing compressed, equals training in one process on the four batches together
 * (within 1e-6 relative).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { mlp, type Tensor, tensor } from '@atoll/core'
import type { AtollMesh } from '@atoll/net'
import {
  adamw,
  type Backend,
  type BatchStream,
  evaluate,
  nodeBackends,
  openDataSource,
  type Pipeline,
  pipelineModel,
  sgd,
  type TrainableModel,
  zeroGrads,
} from '@atoll/runtime'
import {
  ALGORITHMS,
  type AlgorithmInput,
  checkRounds,
  closeReplicas,
  type Replica,
  replicaOn,
  train,
} from './conformance-harness.ts'
import { loopbackMeshes, stopMeshes, uniformLinks } from './helpers.ts'

let meshes: AtollMesh[]
let cpu: Backend
let heldOut: Record<string, Tensor>
const LONG = { floorSeconds: 10 }
const BATCH = 16
const STEPS = 24
const model: TrainableModel = { ...mlpModel(), label: 'mlp' }

function mlpModel() {
  const m = mlp({ sizes: [784, 32, 10], seed: 3 })
  return { graph: m.graph, dataInput: 'x', loss: m.loss ?? 'loss' }
}

before(async () => {
  meshes = await loopbackMeshes(4)
  cpu = await nodeBackends().resolve('cpu')
  // shuffled: the held-out images are stored class by class
  heldOut = (await openDataSource('mnist', model, { batchSize: 512, split: 'eval' })).shuffled(0)
})
after(async () => {
  await stopMeshes(meshes)
})

interface MnistReplica {
  replica: Replica
  pipeline: Pipeline
  data: BatchStream
}

async function mnistReplicas(
  spec: AlgorithmInput,
  group: string,
  bucketBytes?: number,
): Promise<MnistReplica[]> {
  const ids = meshes.map((m) => m.peerId)
  return Promise.all(
    meshes.map(async (mesh, i) => {
      const { params, pipeline } = pipelineModel(model.graph, { backend: cpu, intraOpThreads: 1 })
      // DiLoCo's inner optimizer is AdamW, as in the paper
      const optimizer = spec.algorithm === 'diloco' ? adamw(params) : sgd(params, { momentum: 0.9 })
      const init = {
        group,
        members: ids,
        links: uniformLinks(ids),
        params,
        optimizer,
        deadline: LONG,
        bucketBytes,
      }
      const data = await openDataSource('mnist', model, { batchSize: BATCH, seed: i + 1, split: 'train' })
      return { replica: replicaOn(mesh, spec, init), pipeline, data }
    }),
  )
}

async function heldOutLoss(replica: Replica): Promise<number> {
  return (await evaluate(model, replica.params, cpu, [heldOut])).loss
}

for (const spec of ALGORITHMS) {
  test(`${spec.algorithm}: four replicas train an MNIST MLP`, async () => {
    const replicas = await mnistReplicas(spec, `mnist-${spec.algorithm}`)
    try {
      const before = await heldOutLoss(replicas[0].replica)
      await Promise.all(
        replicas.map(({ replica, pipeline, data }) =>
          train(replica, 0, STEPS, {
            lr: spec.algorithm === 'diloco' ? 0.003 : 0.05,
            backward: async (_r, step) => {
              await pipeline.step(data.shuffled(step))
            },
          }),
        ),
      )
      checkRounds(replicas.map((r) => r.replica))
      for (const { replica } of replicas) {
        const loss = await heldOutLoss(replica)
        assert.ok(loss < 0.5 * before, `${spec.algorithm}: held-out loss ${loss} from ${before}`)
      }
    } finally {
      closeReplicas(replicas.map((r) => r.replica))
      await Promise.all(replicas.map((r) => r.pipeline.release()))
    }
  })
}

/** The four replicas' batches of `step` as one batch, in member order. */
function joined(batches: Record<string, Tensor>[]): Record<string, Tensor> {
  const out: Record<string, Tensor> = {}
  for (const key of Object.keys(batches[0])) {
    const parts = batches.map((b) => b[key])
    const rows = parts.reduce((n, t) => n + t.shape[0], 0)
    const data = new (parts[0].data.constructor as Float32ArrayConstructor)(
      rows * (parts[0].data.length / parts[0].shape[0]),
    )
    let at = 0
    for (const t of parts) {
      data.set(t.data as Float32Array, at)
      at += t.data.length
    }
    out[key] = tensor(parts[0].dtype, [rows, ...parts[0].shape.slice(1)], data as never)
  }
  return out
}

test('S-SGD on four replicas equals one process on the four batches together (≤ 1e-6 relative)', async () => {
  const replicas = await mnistReplicas({ algorithm: 'ssgd' }, 'mnist-exact', 16 * 1024)
  const single = pipelineModel(model.graph, { backend: cpu, intraOpThreads: 1 })
  const optimizer = sgd(single.params, { momentum: 0.9 })
  const steps = 6
  try {
    await Promise.all(
      replicas.map(({ replica, pipeline, data }) =>
        train(replica, 0, steps, {
          lr: 0.05,
          backward: async (_r, step) => void (await pipeline.step(data.shuffled(step))),
        }),
      ),
    )
    for (let step = 0; step < steps; step++) {
      zeroGrads(single.params)
      await single.pipeline.step(joined(replicas.map((r) => r.data.shuffled(step))))
      optimizer.step(0.05)
    }
    const buckets = new Set(replicas[0].replica.events.flatMap((e) => (e.kind === 'round' ? e.names : [])))
    assert.ok(buckets.size > 1, 'the gradients travelled in several buckets')
    for (const { replica } of replicas) {
      let diff = 0
      let norm = 0
      replica.params.forEach((p, i) => {
        for (let k = 0; k < p.value.length; k++) {
          diff += (p.value[k] - single.params[i].value[k]) ** 2
          norm += single.params[i].value[k] ** 2
        }
      })
      assert.ok(Math.sqrt(diff / norm) <= 1e-6, `relative difference ${Math.sqrt(diff / norm)}`)
    }
  } finally {
    closeReplicas(replicas.map((r) => r.replica))
    await Promise.all([...replicas.map((r) => r.pipeline.release()), single.pipeline.release()])
  }
})
