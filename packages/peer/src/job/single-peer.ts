/**
 * A job trained on one peer, as `atoll fit` trains it: the settings `atoll fit`'s flags give, and
 * the model and batches made by the same functions `atoll fit` calls (the runtime's trainableModel
 * and openDataSource), so that `fit({ backend, ...run })` takes the steps `atoll fit` would. It is
 * also what a coordinator builds to check a job's model and data before it touches a peer.
 */
import { readFileSync } from 'node:fs'
import { readSafetensors, type Tensor } from '@atoll/core'
import {
  type BatchStream,
  type FitOptions,
  type ModelSource,
  openDataSource,
  type TrainableModel,
  trainableModel,
} from '@atoll/runtime'
import { JobFileError } from '../errors.ts'
import type { DataSpec, JobSpec } from './spec.ts'

/** What `trainingOptions` gives from `atoll fit`'s flags, less what is the peer's own (device, threads, files). */
export interface JobTrainingSettings
  extends Pick<FitOptions, 'steps' | 'optimizer' | 'schedule' | 'clipNorm' | 'microBatches'> {
  batchSize: number
  /** the data order's seed (`atoll fit --seed` also seeds a zoo model's initialisation) */
  seed: number
}

/** A job's `fit` options on one peer (less the backend), with the data stream and settings they came from. */
export interface SinglePeerRun extends Omit<FitOptions, 'backend'> {
  model: TrainableModel
  data: BatchStream
  settings: JobTrainingSettings
}

/** The job's settings as `trainingOptions` gives them: a clip of 0 is no clipping. */
export function jobTrainingSettings(job: JobSpec): JobTrainingSettings {
  return {
    steps: job.steps,
    optimizer: job.optimizer,
    schedule: job.schedule,
    clipNorm: job.clip > 0 ? job.clip : undefined,
    microBatches: job.microBatches,
    batchSize: job.data.batchSize,
    seed: job.data.seed,
  }
}

/** The data source's name for `atoll fit --data`: `moby-dick`, `moby-dick:gpt2`, `mnist`. */
export function datasetName(data: DataSpec): string {
  return data.tokenizer === 'gpt2' ? `${data.dataset}:gpt2` : data.dataset
}

/** The model as the runtime builds it: a zoo name with its seed and sequence length, or the ONNX file's bytes. */
export function jobModelSource(job: JobSpec): ModelSource {
  const { model } = job
  // only a GPT takes a sequence length: the file's rules refuse one with images
  if ('zoo' in model) return { zoo: model.zoo, seed: model.seed, seq: job.data.seq }
  return { onnx: readJobInput(job, 'model.onnx', model.onnx), retie: model.retie, label: model.onnx }
}

/** Builds the model, opens the training data, reads the starting weights: `fit({ backend, ...run })` trains the job. */
export async function singlePeerRun(job: JobSpec): Promise<SinglePeerRun> {
  const model = trainableModel(jobModelSource(job))
  checkSequence(job, model)
  const settings = jobTrainingSettings(job)
  const data = await openDataSource(datasetName(job.data), model, { ...settings, split: 'train' })
  const init = job.model.init === undefined ? undefined : readWeights(job, job.model.init)
  const { steps, optimizer, schedule, clipNorm, microBatches } = settings
  return {
    model,
    batch: (step) => data.shuffled(step),
    steps,
    optimizer,
    schedule,
    clipNorm,
    microBatches,
    init,
    checkpoint: job.checkpoint,
    data,
    settings,
  }
}

/** An ONNX model's sequence is its own: `data.seq`, where given, must be it. */
function checkSequence(job: JobSpec, model: TrainableModel): void {
  const wanted = job.data.seq
  if (wanted === undefined || 'zoo' in job.model) return
  const seq = model.graph.inputs.find((i) => i.name === model.dataInput)?.shape?.[1]
  if (seq !== wanted)
    throw new JobFileError(
      `${job.source}: data.seq: expected the sequence length of ${job.model.onnx} (${seq ?? 'none'}), found ${wanted}`,
    )
}

function readWeights(job: JobSpec, path: string): Map<string, Tensor> {
  return readSafetensors(readJobInput(job, 'model.init', path)).tensors
}

function readJobInput(job: JobSpec, field: string, path: string): Uint8Array {
  try {
    return readFileSync(path)
  } catch (err) {
    throw new JobFileError(`${job.source}: ${field}: cannot read ${path}: ${(err as Error).message}`)
  }
}
