/**
 * A pipeline job across libp2p nodes (one process, real loopback connections, real onnxruntime):
 * three workers each run one stage, a coordinator drives the steps; the result is compared with the
 * same stages run by one process's Pipeline and Trainer.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Partition } from '@atoll/core'
import type { AtollMesh } from '@atoll/net'
import { type Backend, nodeBackends, zooModel } from '@atoll/runtime'
import { JobCoordinator } from '../src/index.ts'
import { mergeStages } from '../src/job/job-checkpoint.ts'
import {
  coordinatorInit,
  coordinatorOf,
  inOneProcess,
  largestDifference,
  type PipelineSetting,
  partitionOf,
  runJob,
  tiedGptSetting,
} from './pipeline-reference.ts'
import { startWorkerMeshes, type WorkerMeshes } from './worker-meshes.ts'

let backend: Backend
let meshes: WorkerMeshes
let coordinator: AtollMesh

before(async () => {
  backend = await nodeBackends().resolve('cpu')
  meshes = await startWorkerMeshes(3, backend)
  coordinator = meshes.coordinator
})

after(() => meshes.stop())

const peers = () => meshes.peers()

/** The job across the workers: its losses and each parameter's final value. */
async function across(s: PipelineSetting, partition: Partition) {
  const job = coordinatorOf(coordinator, s, partition, peers())
  await job.assign()
  const result = await runJob(job, s)
  await job.stop()
  return result
}

test('a CNN (BatchNorm state, no tied weights) in 3 stages on 3 peers ends bit-identical to one process', async () => {
  const s: PipelineSetting = {
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
  const one = await inOneProcess(s, partition, backend)
  assert.deepEqual(job.losses, one.losses)
  assert.equal(largestDifference(job.params, one.params, s.model.graph), 0)
  assert.ok(one.losses[4] < one.losses[0], `the loss falls: ${one.losses}`)
})

test('a GPT whose tied embedding spans the first and last stage ends bit-identical to one process', async () => {
  const s = tiedGptSetting('gpt-exact')
  const partition = partitionOf(s)
  assert.deepEqual(
    partition.parameterStages.get('wte.weight'),
    [0, 2],
    'the embedding is tied across stages 0 and 2',
  )
  const job = await across(s, partition)
  const one = await inOneProcess(s, partition, backend)
  // the tied gradient is summed per stage, in stage order, in one process as across peers
  assert.deepEqual(job.losses, one.losses)
  assert.equal(largestDifference(job.params, one.params, s.model.graph), 0)
})

test('a job resumed from a checkpoint of its stages ends where the uninterrupted job ends', async () => {
  const s: PipelineSetting = {
    ...tiedGptSetting('resume'),
    model: zooModel('gpt2:tiny', 2, 16),
    schedule: { kind: 'cosine', lr: 2e-3, warmupSteps: 1, totalSteps: 4 },
    steps: 4,
  }
  const initial = new Map(s.model.graph.initializers)
  // uninterrupted, with the stages' checkpoint taken at step 2
  const whole = coordinatorOf(coordinator, s, partitionOf(s), peers())
  await whole.assign()
  for (let k = 0; k < 2; k++) await whole.runStep()
  const atTwo = mergeStages(2, await whole.checkpoints())
  for (let k = 2; k < 4; k++) await whole.runStep()
  const end = mergeStages(4, await whole.checkpoints())
  await whole.stop()
  // from the checkpoint: its weights in the model the stages are cut from, its optimizer buffers sent along
  for (const [n, t] of atTwo.params) s.model.graph.initializers.set(n, t)
  const resumed = new JobCoordinator(coordinator, {
    ...coordinatorInit(s, partitionOf(s), peers()),
    id: 'resume-from-2',
    start: 2,
    optimizerState: atTwo.optimizer,
  })
  await resumed.assign()
  for (let k = 2; k < 4; k++) await resumed.runStep()
  const after = mergeStages(4, await resumed.checkpoints())
  await resumed.stop()
  for (const [n, t] of initial) s.model.graph.initializers.set(n, t)
  assert.ok(atTwo.optimizer.size > 0, 'the checkpoint holds AdamW buffers')
  for (const [n, t] of end.params) assert.deepEqual(after.params.get(n)?.data, t.data, n)
  for (const [n, t] of end.optimizer) assert.deepEqual(after.optimizer.get(n)?.data, t.data, n)
})

test('boundaries cross compressed as the plan says (fp16, int8, top-k): the job trains, near the dense losses', async () => {
  const s: PipelineSetting = { ...tiedGptSetting('codecs'), steps: 3 }
  const partition = partitionOf(s)
  const dense = await across(s, partition)
  for (const codec of [
    { codec: 'fp16', keep: 1 },
    { codec: 'int8', keep: 1 },
    { codec: 'topk-fp16', keep: 0.5 },
  ] as const) {
    const job = new JobCoordinator(coordinator, {
      ...coordinatorInit({ ...s, id: `codecs-${codec.codec}` }, partition, peers()),
      codec: () => codec,
    })
    await job.assign()
    const losses: number[] = []
    for (let k = 0; k < s.steps; k++) losses.push((await job.runStep()).loss)
    await job.stop()
    // the activations already cross compressed, so even the first loss differs, a little
    assert.notEqual(losses[0], dense.losses[0], `${codec.codec} changed what crossed`)
    for (const [k, loss] of losses.entries())
      assert.ok(
        Math.abs(loss - dense.losses[k]) < 0.05 * dense.losses[k],
        `${codec.codec} step ${k}: ${loss} vs ${dense.losses[k]}`,
      )
  }
})
