/**
 * A job whose stages have replicas (one process, real loopback connections, real onnxruntime): two
 * stages of a GPT, each on two peers, pipeline r on the r-th half of every batch, the replicas of a
 * stage synchronised by @atoll/sync over their own sync group. With S-SGD it trains as one process
 * does on the whole batch (the same micro-batches, their gradients added in another order).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { partitionGraph } from '@atoll/core'
import { type Backend, nodeBackends, zooModel } from '@atoll/runtime'
import { JobCoordinator } from '../src/index.ts'
import {
  coordinatorInit,
  inOneProcess,
  largestDifference,
  type PipelineSetting,
  runJob,
} from './pipeline-reference.ts'
import { startWorkerMeshes, type WorkerMeshes } from './worker-meshes.ts'

let backend: Backend
let meshes: WorkerMeshes

before(async () => {
  backend = await nodeBackends().resolve('cpu')
  meshes = await startWorkerMeshes(4, backend)
})

after(() => meshes.stop())

const REPLICAS = 2

function setting(id: string): PipelineSetting {
  return {
    id,
    model: zooModel('gpt2:tiny', 4, 16),
    stages: [{ scopes: ['wte', 'wpe', 'h.0'] }, { scopes: ['h.1', 'ln_f', 'lm_head', 'loss'] }],
    dataset: 'moby-dick',
    batchSize: 8,
    microBatches: 2,
    // SGD, not AdamW: Adam turns the last bits of a gradient the two sides add in another order
    // into whole steps where a gradient is near zero, which this comparison is not about
    optimizer: { kind: 'sgd', momentum: 0.9 },
    schedule: { kind: 'constant', lr: 0.05 },
    clipNorm: 1,
    steps: 4,
  }
}

/** The stages cut for one replica's micro-batch: the batch over replicas × micro-batches. */
function partitionFor(s: PipelineSetting, pieces: number) {
  return partitionGraph(s.model.graph, {
    loss: s.model.loss,
    bindings: { batch: s.batchSize / pieces },
    stages: s.stages.map((st) => ({ scopes: st.scopes })),
  })
}

/** Peers stage-major: stage 0's replicas, then stage 1's. */
const peers = () => meshes.peers()

function links() {
  const ids = meshes.workers.map(({ mesh }) => mesh.peerId)
  return ids.flatMap((a, i) => ids.slice(i + 1).map((b) => ({ a, b, bandwidthBps: 1e9, rttSeconds: 1e-3 })))
}

test('S-SGD over two replicas of each of two stages trains as one process on the whole batch', async () => {
  const s = setting('replicas-ssgd')
  const initial = new Map(s.model.graph.initializers)
  const job = new JobCoordinator(meshes.coordinator, {
    ...coordinatorInit(s, partitionFor(s, REPLICAS * s.microBatches), peers()),
    replicas: REPLICAS,
    sync: { spec: { algorithm: 'ssgd' }, links: links() },
  })
  await job.assign()
  const across = await runJob(job, s)
  await job.stop()
  for (const [name, t] of initial) s.model.graph.initializers.set(name, t)
  // one process, the batch in replicas × micro-batches pieces: the pieces the replicas trained on
  const whole = { ...s, microBatches: REPLICAS * s.microBatches }
  const one = await inOneProcess(whole, partitionFor(s, REPLICAS * s.microBatches), backend)
  for (let k = 0; k < s.steps; k++)
    assert.ok(Math.abs(across.losses[k] - one.losses[k]) <= 1e-5 * Math.abs(one.losses[k]), `step ${k}`)
  const worst = largestDifference(across.params, one.params, s.model.graph)
  assert.ok(worst <= 1e-4, `largest relative difference ${worst}`)
  assert.ok(one.losses[3] < one.losses[0], `the loss falls: ${one.losses}`)
})

test('a replicated job refuses to start without a sync algorithm, and with peers that do not fill the grid', () => {
  const s = setting('replicas-refused')
  const partition = partitionFor(s, REPLICAS * s.microBatches)
  assert.throws(
    () =>
      new JobCoordinator(meshes.coordinator, {
        ...coordinatorInit(s, partition, peers()),
        replicas: REPLICAS,
      }),
    /replicas of a stage need a sync algorithm/,
  )
  assert.throws(
    () =>
      new JobCoordinator(meshes.coordinator, {
        ...coordinatorInit(s, partition, peers().slice(0, 3)),
        replicas: REPLICAS,
        sync: { spec: { algorithm: 'ssgd' }, links: links() },
      }),
    /2 stages of 2 replica\(s\) need 4 peers, got 3/,
  )
})
