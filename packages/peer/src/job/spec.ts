/**
 * The job file of `atoll train JOB.yaml`, read into a typed, defaulted `JobSpec` before any peer is
 * touched: YAML syntax errors name the line, field errors name the field, what was expected and
 * what was found (`job.yaml: schedule.lr: expected a finite number ≥ 0, found -1`), and relative
 * paths are resolved against the file's folder. docs/jobs.md describes every field.
 */
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { type FieldProblem, parseWith } from '@atoll/core'
import {
  CORPORA,
  type CorpusName,
  checkFitSettings,
  type ImageDatasetName,
  type LrSchedule,
  type OptimizerSpec,
  type TokenizerName,
  type ZOO_MODELS,
} from '@atoll/runtime'
import type { Compression, Placement } from '@atoll/sched'
import type { SynchronizerSpec } from '@atoll/sync'
import { JobFileError } from '../errors.ts'
import { type JobFields, jobFile } from './spec-schema.ts'
import { readYaml } from '../yaml-file.ts'

/** A built-in model and its initialisation seed; `init`: starting weights (safetensors) instead. */
export interface ZooModelSpec {
  zoo: (typeof ZOO_MODELS)[number]
  seed: number
  init?: string
}

/** An ONNX file; `retie` re-ties weights the exporter duplicated, as `atoll fit` does. */
export interface OnnxModelSpec {
  onnx: string
  retie: boolean
  init?: string
}

export interface DataSpec {
  dataset: CorpusName | ImageDatasetName
  /** a text dataset's tokens (default bytes); absent for images */
  tokenizer?: TokenizerName
  /** tokens per sequence of text; absent: the model's own */
  seq?: number
  batchSize: number
  /** the data order's seed */
  seed: number
}

/**
 * Where the stages go: OP-Fence, a baseline, or by hand. The file may list the stages directly;
 * they come out as sched's `{ stages }`, so a job's placement is what sched's placeJob takes.
 */
export type PlacementSpec = Placement

/** What crosses a fence edge: AdaTopK's keep ratios, nothing compressed, or one codec fixed (sched's). */
export type CompressionSpec = Compression

/** A parsed job: every field checked and defaulted, every path absolute (docs/jobs.md). */
export interface JobSpec {
  /** the job id: tags its tensors on the wire, names its checkpoint folder */
  name: string
  /** the file as its reader named it, for messages */
  source: string
  model: ZooModelSpec | OnnxModelSpec
  data: DataSpec
  /** the mean softmax cross-entropy of the model's first output (the only loss so far) */
  loss: 'cross-entropy'
  /** optimizer steps */
  steps: number
  optimizer: OptimizerSpec
  /** a cosine's `totalSteps` is `steps` unless the file says otherwise */
  schedule: LrSchedule
  /** the global gradient 2-norm's ceiling; 0 does not clip */
  clip: number
  /** each batch is split into this many micro-batches (gradients accumulate) */
  microBatches: number
  placement: PlacementSpec
  compression: CompressionSpec
  /**
   * how replicas of a stage synchronise (@atoll/sync); with it OP-Fence replicates each cluster's
   * segment on the cluster's peers. Absent: one peer a stage, no replicas
   */
  sync?: SynchronizerSpec
  /** bootstrap multiaddrs; empty: every peer the local daemon knows */
  peers: string[]
  /** resume from and save to `dir` every `every` steps and at the end */
  checkpoint: { dir: string; every: number }
  /** held-out loss every `every` steps (0: at the end only) over the first `batches` batches */
  eval: { every: number; batches: number }
}

/** Reads and parses the job file at `path`. */
export function readJobFile(path: string): JobSpec {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new JobFileError(`cannot read the job file ${path}: ${(err as Error).message}`)
  }
  return parseJob(text, path)
}

/**
 * Parses a job file's text. `source` is the file's path: errors start with it, and relative paths
 * in the file (the ONNX model, initial weights, the checkpoint folder) start from its folder.
 */
export function parseJob(text: string, source: string): JobSpec {
  const fail = (problem: FieldProblem) => new JobFileError(`${source}: ${problem.message}`)
  const fields = parseWith(
    jobFile,
    withScheduleLength(readYaml(text, source, (message) => new JobFileError(message))),
    fail,
  )
  // the runtime's own check of what fit runs, so that a rule it gains applies to job files too
  checkFitSettings(fields, fail)
  return resolvePaths(fields, source)
}

/**
 * A cosine schedule's length defaults to the job's steps, as `atoll fit --schedule cosine` takes it
 * from `--steps`; a `totalSteps` written in the file is kept (the rate then stays at its floor).
 */
function withScheduleLength(raw: unknown): unknown {
  if (!isRecord(raw) || !isRecord(raw.schedule) || raw.schedule.kind !== 'cosine') return raw
  if (raw.schedule.totalSteps !== undefined) return raw
  return { ...raw, schedule: { ...raw.schedule, totalSteps: raw.steps } }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function resolvePaths(fields: JobFields, source: string): JobSpec {
  const folder = dirname(resolve(source))
  const at = (path: string) => resolve(folder, path)
  const { model, data, checkpoint } = fields
  const init = model.init === undefined ? {} : { init: at(model.init) }
  const text = (CORPORA as readonly string[]).includes(data.dataset)
  return {
    ...fields,
    source,
    schedule: withScheduleDefaults(fields.schedule),
    model: 'zoo' in model ? { ...model, ...init } : { ...model, onnx: at(model.onnx), ...init },
    data: text ? { ...data, tokenizer: data.tokenizer ?? 'bytes' } : data,
    checkpoint: { dir: at(checkpoint.dir ?? join('checkpoints', fields.name)), every: checkpoint.every },
  }
}

/** A cosine's warm-up and floor as `atoll fit --schedule cosine` fills them: 0 unless given. */
function withScheduleDefaults(schedule: LrSchedule): LrSchedule {
  return schedule.kind === 'cosine' ? { warmupSteps: 0, minLr: 0, ...schedule } : schedule
}
