/**
 * The training flags of `atoll fit`, which the examples take too: one table (usage, schema, and the
 * field of `fit`'s options each one sets), read over a program's defaults into the optimizer,
 * schedule and step count `fit` runs. Each flag's own range is its schema's; the rules that span
 * fields (an optimizer's options, a cosine's warm-up and floor) are the runtime's, named here by flag.
 */
import type { FieldProblem } from '@atoll/core'
import type { checkFitSettings, FitOptions, LrSchedule, OptimizerSpec } from '@atoll/runtime'
import * as z from 'zod/mini'
import { outputFlag } from './files.ts'
import { type FlagValues, readFlags, type Switch, type ValueFlag } from './table.ts'
import { COUNT, numeric, required } from './values.ts'
import { UsageError } from './errors.ts'

export type OptimizerKind = OptimizerSpec['kind']
export type ScheduleKind = LrSchedule['kind']

const OPTIMIZERS = ['sgd', 'adamw'] as const satisfies OptimizerKind[]
const SCHEDULES = ['constant', 'cosine'] as const satisfies ScheduleKind[]
const NON_NEGATIVE = numeric(z.number().check(z.gte(0)))
const FRACTION = numeric(z.number().check(z.gte(0), z.lte(1)))
const STEPS = numeric(z.int().check(z.gte(0)))
/** PyTorch refuses β ≥ 1: the moment estimates would never forget. */
const BETA = z.number().check(z.gte(0), z.lt(1))
const BETAS = z.pipe(
  z.pipe(
    z.string(),
    z.transform((text: string) =>
      text.split(',').map((part) => (part.trim() === '' ? Number.NaN : Number(part))),
    ),
  ),
  z.tuple([BETA, BETA], { error: 'two numbers B1,B2' }),
)
const FILE = z.string().check(z.minLength(1))

/** A training flag; `sets` is the field of `fit`'s options it sets, where the runtime's check may find a problem. */
type TrainingFlagDef = (ValueFlag | Switch) & { sets?: string }

/** The training flags in the order usage lists them. */
export const TRAINING_FLAGS = {
  steps: { arg: 'N', what: 'optimizer steps', schema: STEPS, sets: 'steps' },
  'batch-size': { arg: 'B', what: 'samples per step', schema: COUNT },
  optimizer: { arg: 'O', what: OPTIMIZERS.join(' | '), schema: z.enum(OPTIMIZERS), sets: 'optimizer.kind' },
  lr: { arg: 'X', what: 'peak learning rate', schema: NON_NEGATIVE, sets: 'schedule.lr' },
  momentum: { arg: 'M', what: 'SGD momentum', schema: FRACTION, sets: 'optimizer.momentum' },
  dampening: { arg: 'D', what: 'SGD momentum dampening', schema: FRACTION, sets: 'optimizer.dampening' },
  nesterov: { what: 'Nesterov momentum (SGD)', sets: 'optimizer.nesterov' },
  betas: { arg: 'B1,B2', what: 'AdamW moment decay rates', schema: BETAS, sets: 'optimizer.betas' },
  eps: {
    arg: 'E',
    what: "AdamW's term added to the denominator",
    schema: NON_NEGATIVE,
    sets: 'optimizer.eps',
  },
  amsgrad: { what: 'the AMSGrad variant of AdamW', sets: 'optimizer.amsgrad' },
  'optimizer-threads': {
    arg: 'N',
    what: 'run the AdamW update on N threads (bit-identical to 1)',
    schema: COUNT,
    sets: 'optimizer.threads',
  },
  'weight-decay': {
    arg: 'W',
    what: 'L2 (SGD) or decoupled (AdamW) weight decay',
    schema: NON_NEGATIVE,
    sets: 'optimizer.weightDecay',
  },
  schedule: {
    arg: 'KIND',
    what: `${SCHEDULES.join(' | ')}: a linear warm-up, then a cosine down to --min-lr`,
    schema: z.enum(SCHEDULES),
    sets: 'schedule.kind',
  },
  warmup: {
    arg: 'N',
    what: 'warm-up steps of the cosine schedule',
    schema: STEPS,
    sets: 'schedule.warmupSteps',
  },
  'min-lr': { arg: 'X', what: 'floor of the cosine schedule', schema: NON_NEGATIVE, sets: 'schedule.minLr' },
  clip: {
    arg: 'NORM',
    what: 'clip the global gradient 2-norm at NORM; 0 does not clip',
    schema: NON_NEGATIVE,
  },
  'micro-batches': {
    arg: 'M',
    what: 'split each batch into M micro-batches (gradients accumulate)',
    schema: COUNT,
  },
  seed: { arg: 'N', what: 'initialisation and data order', schema: STEPS },
  // what it offers is the runtime's registry's, which trainingUsage is given
  device: { arg: 'D', what: 'the backend to run on', schema: z.string().check(z.minLength(1)) },
  threads: { arg: 'N', what: 'onnxruntime intra-op threads', schema: COUNT },
  precision: {
    arg: 'P',
    what: 'fp32, or fp16: matrix products in float16 over float32 weights, with dynamic loss scaling',
    schema: z.enum(['fp32', 'fp16']),
    default: 'fp32',
  },
  log: {
    arg: 'FILE',
    what: 'one JSON line per step, { "step": i, "loss": value }: the loss before its update',
    schema: FILE,
  },
  save: { arg: 'FILE', what: 'the final weights (and running statistics) as safetensors', schema: FILE },
} satisfies Record<string, TrainingFlagDef>

export type TrainingFlag = keyof typeof TRAINING_FLAGS
/** What parseFlags gives for the training flags. */
export type TrainingValues = { [K in TrainingFlag]?: string | boolean }
/** The training flags as given: each checked against its schema, none defaulted. */
export type TrainingFlags = FlagValues<typeof TRAINING_FLAGS>

type SgdSpec = Extract<OptimizerSpec, { kind: 'sgd' }>
type AdamwSpec = Extract<OptimizerSpec, { kind: 'adamw' }>

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
    'steps' | 'optimizer' | 'schedule' | 'clipNorm' | 'microBatches' | 'intraOpThreads' | 'precision'
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
 * `check` is the runtime's `checkFitSettings`, passed in so that loading @atoll/flags never loads
 * the runtime (and its onnxruntime); what it refuses is a UsageError naming the flag.
 */
export function trainingOptions(
  values: TrainingValues,
  defaultsOf: TrainingDefaults | ((given: TrainingFlags) => TrainingDefaults),
  check: typeof checkFitSettings,
): TrainingOptions {
  const flags = readFlags(TRAINING_FLAGS, values)
  const defaults = typeof defaultsOf === 'function' ? defaultsOf(flags) : defaultsOf
  const steps = required('steps', flags.steps ?? defaults.steps, 'N')
  const lr = required('lr', flags.lr ?? defaults.lr, 'X')
  const clip = flags.clip ?? defaults.clip ?? 0
  const options: TrainingOptions = {
    steps,
    batchSize: flags['batch-size'] ?? defaults.batchSize,
    optimizer: optimizerSpec(flags, defaults),
    schedule: scheduleSpec(flags, defaults, lr, steps),
    clipNorm: clip > 0 ? clip : undefined,
    microBatches: flags['micro-batches'],
    seed: flags.seed ?? 0,
    device: flags.device,
    intraOpThreads: flags.threads,
    precision: flags.precision,
    log: outputFlag('log', flags.log),
    save: outputFlag('save', flags.save),
  }
  check(options, (problem) => flagProblem(options, problem))
  return options
}

/**
 * Every optimizer flag given goes in, whichever optimizer it belongs to, over the chosen one's
 * defaults: the runtime's check refuses a flag of the other optimizer rather than ignoring it.
 */
function optimizerSpec(flags: TrainingFlags, defaults: TrainingDefaults): OptimizerSpec {
  const kind = required('optimizer', flags.optimizer ?? defaults.optimizer, OPTIMIZERS.join('|'))
  const { momentum, dampening, nesterov, betas, eps, amsgrad } = flags
  const threads = flags['optimizer-threads']
  const weightDecay = flags['weight-decay']
  const options = given({ momentum, dampening, nesterov, betas, eps, amsgrad, threads, weightDecay })
  return { ...defaults[kind], kind, ...options } as OptimizerSpec
}

/** A constant rate keeps a given --warmup or --min-lr (not a program's default) for the check to refuse. */
function scheduleSpec(
  flags: TrainingFlags,
  defaults: TrainingDefaults,
  lr: number,
  steps: number,
): LrSchedule {
  const kind = flags.schedule ?? defaults.schedule ?? 'constant'
  const { warmup, 'min-lr': minLr } = flags
  if (kind === 'constant') return { kind, lr, ...given({ warmupSteps: warmup, minLr }) } as LrSchedule
  return {
    kind,
    lr,
    warmupSteps: warmup ?? defaults.warmup ?? 0,
    totalSteps: steps,
    minLr: minLr ?? defaults.minLr ?? 0,
  }
}

/** The flag that sets each field of `fit`'s options, by the field's path (`schedule.warmupSteps`). */
const FLAG_OF = new Map<string, string>(
  Object.entries(TRAINING_FLAGS as Record<string, TrainingFlagDef>).flatMap(([flag, def]) =>
    def.sets === undefined ? [] : [[def.sets, flag]],
  ),
)

/** core's `found` for a field its object does not declare: here, an option of another kind. */
const UNKNOWN_FIELD = 'an unknown field'

/** A problem the runtime found in `options`, named by the flag that sets the field (or would have). */
function flagProblem(options: TrainingOptions, problem: FieldProblem): UsageError {
  const { keys } = problem
  for (let n = keys.length; n > 0; n--) {
    const flag = FLAG_OF.get(keys.slice(0, n).join('.'))
    if (flag === undefined) continue
    if (problem.found === UNKNOWN_FIELD) {
      const kind = [...keys.slice(0, n - 1), 'kind']
      return new UsageError(
        `--${flag} is not an option of --${FLAG_OF.get(kind.join('.'))} ${valueAt(options, kind)}`,
      )
    }
    const item = keys
      .slice(n)
      .map((key) => `[${String(key)}]`)
      .join('')
    return new UsageError(`--${flag}${item}: expected ${problem.expected}, found ${problem.found}`)
  }
  return new UsageError(problem.message)
}

function valueAt(value: unknown, keys: readonly PropertyKey[]): unknown {
  return keys.reduce((at, key) => (at as Record<PropertyKey, unknown> | undefined)?.[key], value)
}

/** The entries that were given, so that an absent flag leaves the program's default in place. */
export function given<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>
}
