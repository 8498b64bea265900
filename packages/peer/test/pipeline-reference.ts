/**
 * What a pipeline job across peers is held to, shared by the in-process engine test and the test
 * across `atoll peer` processes: the job driven by a JobCoordinator, the same stages run by one
 * process's Pipeline and Trainer (as `atoll fit --stages` runs them), and the comparison of the two.
 */
import assert from 'node:assert/strict'
import { type Graph, type Partition, partitionGraph, type Tensor } from '@atoll/core'
import type { AtollMesh } from '@atoll/net'
import {
  type Backend,
  checkpointParts,
  type LrSchedule,
  makeOptimizer,
  type OptimizerSpec,
  openDataSource,
  pipelineModel,
  stageGraphsOf,
  type TrainableModel,
  Trainer,
  zooModel,
} from '@atoll/runtime'
import { type CoordinatorInit, JobCoordinator, type JobPeer } from '../src/index.ts'

export interface PipelineSetting {
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

/** The data order's seed, the same in the job and in one process. */
const DATA_SEED = 7

/** gpt2:tiny in 3 stages whose tied embedding spans the first and the last, 5 steps of AdamW with clipping. */
export function tiedGptSetting(id: string): PipelineSetting {
  return {
    id,
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
}

export function partitionOf(setting: PipelineSetting): Partition {
  const bindings = { batch: setting.batchSize / setting.microBatches }
  return partitionGraph(setting.model.graph, { loss: setting.model.loss, bindings, stages: setting.stages })
}

/** A coordinator for the setting's job on `peers` (one per stage, in stage order), not yet assigned. */
export function coordinatorOf(
  mesh: AtollMesh,
  setting: PipelineSetting,
  partition: Partition,
  peers: JobPeer[],
): JobCoordinator {
  return new JobCoordinator(mesh, coordinatorInit(setting, partition, peers))
}

/** What coordinatorOf builds its coordinator from (a test may change a field, e.g. to resume). */
export function coordinatorInit(
  setting: PipelineSetting,
  partition: Partition,
  peers: JobPeer[],
): CoordinatorInit {
  return {
    id: setting.id,
    model: setting.model,
    partition,
    peers,
    microBatches: setting.microBatches,
    optimizer: setting.optimizer,
    lrSchedule: setting.schedule,
    clipNorm: setting.clipNorm,
    steps: setting.steps,
    data: { dataset: setting.dataset, batchSize: setting.batchSize, seed: DATA_SEED },
  }
}

/** Runs an assigned job's steps; its losses and each parameter's final value, from the stages' checkpoints. */
export async function runJob(job: JobCoordinator, setting: PipelineSetting) {
  const losses: number[] = []
  for (let k = 0; k < setting.steps; k++) losses.push((await job.runStep()).loss)
  const params = new Map<string, Tensor>()
  for (const bytes of await job.checkpoints())
    for (const [name, value] of checkpointParts(bytes).params) params.set(name, value)
  return { losses, params }
}

/** The same stages in this process: pipelineModel and Trainer, as `atoll fit` runs them. */
export async function inOneProcess(setting: PipelineSetting, partition: Partition, backend: Backend) {
  const { params, pipeline } = pipelineModel(setting.model.graph, {
    backend,
    stages: stageGraphsOf(partition),
    loss: setting.model.loss,
  })
  const trainer = new Trainer({
    pipeline,
    params,
    optimizer: makeOptimizer(setting.optimizer, params),
    schedule: setting.schedule,
    clipNorm: setting.clipNorm,
    microBatches: setting.microBatches,
  })
  const data = await openDataSource(setting.dataset, setting.model, {
    batchSize: setting.batchSize,
    seed: DATA_SEED,
    split: 'train',
  })
  const losses: number[] = []
  for (let k = 0; k < setting.steps; k++) losses.push((await trainer.trainStep(data.shuffled(k))).loss)
  await pipeline.release()
  return { losses, params: new Map(params.map((p) => [p.name, p.value])) }
}

/** Largest |a − b| / max(|b|, 1e-3) over every parameter of `graph`; 0 when bit-identical. */
export function largestDifference(
  job: Map<string, Tensor>,
  reference: Map<string, Float32Array>,
  graph: Graph,
): number {
  let worst = 0
  for (const name of graph.parameters) {
    const x = job.get(name)?.data as Float32Array
    const y = reference.get(name) as Float32Array
    assert.ok(x !== undefined, `the job returned no '${name}'`)
    assert.equal(x.length, y.length, name)
    for (let i = 0; i < x.length; i++)
      worst = Math.max(worst, Math.abs(x[i] - y[i]) / Math.max(Math.abs(y[i]), 1e-3))
  }
  return worst
}
