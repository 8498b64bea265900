/**
 * A pipeline job across libp2p nodes (one process, real loopback connections, real onnxruntime):
 * three workers each run one stage, a coordinator drives the steps; the result is compared with the
 * same stages run by one process's Pipeline and Trainer.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { type Graph, type Partition, partitionGraph, type Tensor } from '@atoll/core'
import { AtollMesh, createNode } from '@atoll/net'
import {
  type Backend,
  checkpointParts,
  type LrSchedule,
  makeOptimizer,
  nodeBackends,
  type OptimizerSpec,
  openDataSource,
  pipelineModel,
  stageGraphsOf,
  type TrainableModel,
  Trainer,
  zooModel,
} from '@atoll/runtime'
import { pino } from 'pino'
import { JobCoordinator, JobWorker } from '../src/index.ts'

const log = pino({ level: 'silent' })
let backend: Backend
const workers: { mesh: AtollMesh; worker: JobWorker }[] = []
let coordinator: AtollMesh

before(async () => {
  backend = await nodeBackends().resolve('cpu')
  coordinator = await startMesh()
  for (let k = 0; k < 3; k++) {
    const mesh = await startMesh()
    const worker = new JobWorker({
      mesh,
      log,
      backend: async () => backend,
      allow: new Set([coordinator.peerId]),
    })
    worker.serve()
    mesh.tensors.setGate((header, from) => worker.gate(header, from))
    mesh.tensors.onMessage((msg) => worker.received(msg))
    workers.push({ mesh, worker })
  }
})

after(async () => {
  for (const { mesh, worker } of workers) {
    await worker.stop()
    await mesh.stop(0)
  }
  await coordinator.stop(0)
})

async function startMesh(): Promise<AtollMesh> {
  const mesh = new AtollMesh(await createNode({ listen: ['/ip4/127.0.0.1/tcp/0'] }))
  await mesh.start()
  return mesh
}

const peers = () =>
  workers.map(({ mesh }) => ({ peerId: mesh.peerId, addresses: mesh.node.getMultiaddrs().map(String) }))

interface Setting {
  id: string
  model: TrainableModel
  stages: { scopes: string[] }[]
  dataset: string
  batchSize: number
  microBatches: number
  optimizer: OptimizerSpec
  schedule: LrSchedule
  clipNorm: number
  steps: number
}

/** The job across the workers: its losses and each parameter's final value. */
async function across(s: Setting, partition: Partition) {
  const job = new JobCoordinator(coordinator, {
    id: s.id,
    model: s.model,
    partition,
    peers: peers(),
    microBatches: s.microBatches,
    optimizer: s.optimizer,
    lrSchedule: s.schedule,
    clipNorm: s.clipNorm,
    steps: s.steps,
    data: { dataset: s.dataset, batchSize: s.batchSize, seed: 7 },
  })
  await job.assign()
  const losses: number[] = []
  for (let k = 0; k < s.steps; k++) losses.push((await job.runStep()).loss)
  const params = new Map<string, Tensor>()
  for (const bytes of await job.checkpoints())
    for (const [n, t] of checkpointParts(bytes).params) params.set(n, t)
  await job.stop()
  return { losses, params }
}

/** The same stages in this process: pipelineModel and Trainer, as `atoll fit` runs them. */
async function inOneProcess(s: Setting, partition: Partition) {
  const { params, pipeline } = pipelineModel(s.model.graph, {
    backend,
    stages: stageGraphsOf(partition),
    loss: s.model.loss,
  })
  const trainer = new Trainer({
    pipeline,
    params,
    optimizer: makeOptimizer(s.optimizer, params),
    schedule: s.schedule,
    clipNorm: s.clipNorm,
    microBatches: s.microBatches,
  })
  const data = await openDataSource(s.dataset, s.model, { batchSize: s.batchSize, seed: 7, split: 'train' })
  const losses: number[] = []
  for (let k = 0; k < s.steps; k++) losses.push((await trainer.trainStep(data.shuffled(k))).loss)
  await pipeline.release()
  return { losses, params: new Map(params.map((p) => [p.name, p.value])) }
}

function partitionOf(s: Setting): Partition {
  const bindings = { batch: s.batchSize / s.microBatches }
  return partitionGraph(s.model.graph, { loss: s.model.loss, bindings, stages: s.stages })
}

/** Largest |a − b| / max(|b|, 1e-3) over every parameter; 0 when bit-identical. */
function largestDifference(a: Map<string, Tensor>, b: Map<string, Float32Array>, graph: Graph): number {
  let worst = 0
  for (const name of graph.parameters) {
    const x = a.get(name)?.data as Float32Array
    const y = b.get(name) as Float32Array
    assert.ok(x !== undefined, `the job returned no '${name}'`)
    assert.equal(x.length, y.length, name)
    for (let i = 0; i < x.length; i++)
      worst = Math.max(worst, Math.abs(x[i] - y[i]) / Math.max(Math.abs(y[i]), 1e-3))
  }
  return worst
}

test('a CNN (BatchNorm state, no tied weights) in 3 stages on 3 peers ends bit-identical to one process', async () => {
  const s: Setting = {
    id: 'cnn-exact',
    model: zooModel('mnist-cnn', 3),
    stages: [{ scopes: ['conv1', 'bn1'] }, { scopes: ['conv2', 'bn2'] }, { scopes: ['fc'] }],
    dataset: 'mnist',
    batchSize: 8,
    microBatches: 2,
    optimizer: { kind: 'adamw', weightDecay: 0.01 },
    schedule: { kind: 'cosine', lr: 3e-3, warmupSteps: 2, totalSteps: 5 },
    clipNorm: 0.5,
    steps: 5,
  }
  const partition = partitionOf(s)
  const job = await across(s, partition)
  const one = await inOneProcess(s, partition)
  assert.deepEqual(job.losses, one.losses)
  assert.equal(largestDifference(job.params, one.params, s.model.graph), 0)
  assert.ok(one.losses[4] < one.losses[0], `the loss falls: ${one.losses}`)
})

test('a GPT whose tied embedding spans the first and last stage ends bit-identical to one process', async () => {
  const s: Setting = {
    id: 'gpt-exact',
    model: zooModel('gpt2:tiny', 1, 16),
    stages: [{ scopes: ['wte', 'wpe', 'h.0'] }, { scopes: ['h.1'] }, { scopes: ['ln_f', 'lm_head'] }],
    dataset: 'moby-dick',
    batchSize: 4,
    microBatches: 2,
    optimizer: { kind: 'adamw', betas: [0.9, 0.95], weightDecay: 0.1 },
    schedule: { kind: 'constant', lr: 1e-3 },
    clipNorm: 1,
    steps: 5,
  }
  const partition = partitionOf(s)
  assert.deepEqual(
    partition.parameterStages.get('wte.weight'),
    [0, 2],
    'the embedding is tied across stages 0 and 2',
  )
  const job = await across(s, partition)
  const one = await inOneProcess(s, partition)
  // the tied gradient is summed per stage, in stage order, in one process as across peers
  assert.deepEqual(job.losses, one.losses)
  assert.equal(largestDifference(job.params, one.params, s.model.graph), 0)
})
