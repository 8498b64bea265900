/**
 * The training flags of `atoll fit`, which the examples take too: read once (types and ranges),
 * then resolved over a program's defaults into the optimizer, schedule and step count `fit` runs.
 */
import type { FitOptions, LrSchedule, OptimizerSpec } from '@atoll/runtime'
import { UsageError } from './errors.ts'
import { outputFlag } from './files.ts'
import { valueFlags } from './parse.ts'
import { COUNT, choiceOrUndefined, type NumberRange, numberFlag, required } from './values.ts'

type SgdSpec = Extract<OptimizerSpec, { kind: 'sgd' }>
type AdamwSpec = Extract<OptimizerSpec, { kind: 'adamw' }>
export type OptimizerKind = OptimizerSpec['kind']
export type ScheduleKind = LrSchedule['kind']

export const TRAINING_FLAGS = {
  ...valueFlags(
    'steps',
    'batch-size',
    'optimizer',
    'lr',
    'momentum',
    'dampening',
    'betas',
    'eps',
    'weight-decay',
    'optimizer-threads',
    'schedule',
    'warmup',
    'min-lr',
    'clip',
    'micro-batches',
    'seed',
    'device',
    'threads',
    'log',
    'save',
  ),
  nesterov: { type: 'boolean' },
  amsgrad: { type: 'boolean' },
} as const

export type TrainingFlag = keyof typeof TRAINING_FLAGS
export type TrainingValues = { [K in TrainingFlag]?: K extends 'nesterov' | 'amsgrad' ? boolean : string }

/** The training flags as given: each checked for type and range, none defaulted. */
export interface TrainingFlags {
  steps?: number
  batchSize?: number
  optimizer?: OptimizerKind
  lr?: number
  momentum?: number
  dampening?: number
  nesterov?: boolean
  betas?: [number, number]
  eps?: number
  amsgrad?: boolean
  optimizerThreads?: number
  weightDecay?: number
  schedule?: ScheduleKind
  warmup?: number
  minLr?: number
  clip?: number
  microBatches?: number
  seed?: number
  device?: string
  threads?: number
  log?: string
  save?: string
}

const NON_NEGATIVE: NumberRange = { min: 0 }
/** PyTorch refuses β ≥ 1: the moment estimates would never forget. */
const BETA: NumberRange = { min: 0, max: 0.999999 }

function readTrainingFlags(values: TrainingValues): TrainingFlags {
  const number = (name: TrainingFlag, range: NumberRange) =>
    numberFlag(name, values[name] as string | undefined, range)
  const choice = <T extends string>(name: TrainingFlag, allowed: readonly T[]) =>
    choiceOrUndefined(name, values[name] as string | undefined, allowed)
  return {
    steps: number('steps', { min: 0, integer: true }),
    batchSize: number('batch-size', COUNT),
    optimizer: choice('optimizer', ['sgd', 'adamw'] as const),
    lr: number('lr', NON_NEGATIVE),
    momentum: number('momentum', { min: 0, max: 1 }),
    dampening: number('dampening', { min: 0, max: 1 }),
    nesterov: values.nesterov,
    betas: betasFlag(values.betas),
    eps: number('eps', NON_NEGATIVE),
    amsgrad: values.amsgrad,
    optimizerThreads: number('optimizer-threads', COUNT),
    weightDecay: number('weight-decay', NON_NEGATIVE),
    schedule: choice('schedule', ['constant', 'cosine'] as const),
    warmup: number('warmup', { min: 0, integer: true }),
    minLr: number('min-lr', NON_NEGATIVE),
    clip: number('clip', NON_NEGATIVE),
    microBatches: number('micro-batches', COUNT),
    seed: number('seed', { min: 0, integer: true }),
    device: values.device,
    threads: number('threads', COUNT),
    log: outputFlag('log', values.log),
    save: outputFlag('save', values.save),
  }
}

function betasFlag(value: string | undefined): [number, number] | undefined {
  if (value === undefined) return undefined
  const parts = value.split(',')
  if (parts.length !== 2) throw new UsageError(`--betas takes B1,B2, got '${value}'`)
  return [numberFlag('betas', parts[0], BETA)!, numberFlag('betas', parts[1], BETA)!]
}

/** A program's defaults; a value left out here must be given as a flag. */
export interface TrainingDefaults {
  steps?: number
  batchSize: number
  lr?: number
  optimizer?: OptimizerKind
  /** hyper-parameters of each optimizer where its flags are absent (else PyTorch's defaults) */
  sgd?: Omit<SgdSpec, 'kind'>
  adamw?: Omit<AdamwSpec, 'kind'>
  /** default constant */
  schedule?: ScheduleKind
  warmup?: number
  minLr?: number
  /** default 0: no clipping */
  clip?: number
}

/** How to train, as `fit` takes it (the same for `atoll fit`, the examples and, later, job files). */
export interface TrainingOptions
  extends Pick<
    FitOptions,
    'steps' | 'optimizer' | 'schedule' | 'clipNorm' | 'microBatches' | 'intraOpThreads'
  > {
  batchSize: number
  seed: number
  /** a backend choice; undefined: the runtime's default */
  device?: string
  log?: string
  save?: string
}

/**
 * The training flags among `values` over a program's defaults; `defaults` may be a function of the
 * flags as given, for a default that depends on another flag (a warm-up of 5% of `--steps`).
 */
export function trainingOptions(
  values: TrainingValues,
  defaultsOf: TrainingDefaults | ((given: TrainingFlags) => TrainingDefaults),
): TrainingOptions {
  const flags = readTrainingFlags(values)
  const defaults = typeof defaultsOf === 'function' ? defaultsOf(flags) : defaultsOf
  const steps = required('steps', flags.steps ?? defaults.steps, 'N')
  const lr = required('lr', flags.lr ?? defaults.lr, 'X')
  const clip = flags.clip ?? defaults.clip ?? 0
  return {
    steps,
    batchSize: flags.batchSize ?? defaults.batchSize,
    optimizer: optimizerSpec(flags, defaults),
    schedule: scheduleSpec(flags, defaults, lr, steps),
    clipNorm: clip > 0 ? clip : undefined,
    microBatches: flags.microBatches,
    seed: flags.seed ?? 0,
    device: flags.device,
    intraOpThreads: flags.threads,
    log: flags.log,
    save: flags.save,
  }
}

function optimizerSpec(flags: TrainingFlags, defaults: TrainingDefaults): OptimizerSpec {
  const kind = required('optimizer', flags.optimizer ?? defaults.optimizer, 'sgd|adamw')
  const weightDecay = flags.weightDecay
  if (kind === 'sgd') {
    if (flags.betas || flags.eps !== undefined || flags.amsgrad || flags.optimizerThreads !== undefined)
      throw new UsageError('--betas, --eps, --amsgrad and --optimizer-threads are AdamW options')
    const { momentum, dampening, nesterov } = flags
    return { ...defaults.sgd, kind, ...given({ momentum, dampening, nesterov, weightDecay }) }
  }
  if (flags.momentum !== undefined || flags.dampening !== undefined || flags.nesterov)
    throw new UsageError('--momentum, --dampening and --nesterov are SGD options')
  const { betas, eps, amsgrad, optimizerThreads: threads } = flags
  return { ...defaults.adamw, kind, ...given({ betas, eps, amsgrad, threads, weightDecay }) }
}

function scheduleSpec(
  flags: TrainingFlags,
  defaults: TrainingDefaults,
  lr: number,
  steps: number,
): LrSchedule {
  const kind = flags.schedule ?? defaults.schedule ?? 'constant'
  if (kind === 'constant') {
    if (flags.warmup !== undefined || flags.minLr !== undefined)
      throw new UsageError('--warmup and --min-lr need --schedule cosine')
    return { kind, lr }
  }
  const warmupSteps = flags.warmup ?? defaults.warmup ?? 0
  if (warmupSteps > steps) throw new UsageError(`--warmup ${warmupSteps} exceeds --steps ${steps}`)
  const minLr = flags.minLr ?? defaults.minLr ?? 0
  if (minLr > lr) throw new UsageError(`--min-lr ${minLr} exceeds the peak --lr ${lr}`)
  return { kind, lr, warmupSteps, totalSteps: steps, minLr }
}

/** The entries that were given, so that an absent flag leaves the program's default in place. */
export function given<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>
}
