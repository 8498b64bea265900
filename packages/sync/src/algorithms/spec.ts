/**
 * The sync spec: which training algorithm keeps a model's replicas in step, as a job file writes it
 * (`sync: { algorithm: dreamddp, period: 8 }`). Parsed with zod/mini through parseWith, so an error
 * names the field, what was expected and what was found. The parsed spec is a sched `SyncSpec` (the
 * planner's algorithm names, `local-sgd`) with the algorithm's own settings and defaults filled in.
 */
import { parseWith } from '@atoll/core'
import type { SyncSpec } from '@atoll/sched'
import * as z from 'zod/mini'
import type { SyncCompression } from '../codec.ts'
import { DEFAULT_OUTER_LR, DEFAULT_OUTER_MOMENTUM, MAX_PERIOD } from './constants.ts'
import { SyncSpecError } from './errors.ts'

export type SyncAlgorithm = SyncSpec['algorithm']

/** DiLoCo's outer optimizer: Nesterov SGD on the averaged pseudo-gradient. */
export interface OuterOptimizerSpec {
  lr: number
  momentum: number
}

export interface SynchronizerSpec extends SyncSpec {
  /** what crosses the links (default none) */
  compression: SyncCompression
  /** DiLoCo only */
  outer?: OuterOptimizerSpec
  /** DiLoCo only: pseudo-gradients sent as int8 with a per-block scale */
  int8PseudoGradients?: boolean
}

/** DreamDDP's period indexes the solver's iterations in a byte (sched's syncPeriod). */
const MAX_DREAMDDP_PERIOD = 255

const compression = z.discriminatedUnion('codec', [
  z.strictObject({ codec: z.literal('none') }),
  z.strictObject({ codec: z.literal('int8'), block: z.optional(z.int().check(z.gte(1), z.lte(1 << 16))) }),
  z.strictObject({
    codec: z.literal('topk'),
    ratio: z.number().check(z.gt(0), z.lte(1)),
    values: z.optional(z.enum(['float32', 'float16'])),
  }),
])

const outer = z.strictObject({
  lr: z._default(z.number().check(z.gt(0), z.lte(10)), DEFAULT_OUTER_LR),
  momentum: z._default(z.number().check(z.gte(0), z.lt(1)), DEFAULT_OUTER_MOMENTUM),
})

const fields = z.strictObject({
  // `localsgd` is issue 13's spelling of sched's `local-sgd`; both name the same algorithm
  algorithm: z.enum(['ssgd', 'local-sgd', 'localsgd', 'dreamddp', 'diloco']),
  period: z.optional(z.int().check(z.gte(1), z.lte(MAX_PERIOD))),
  compression: z.optional(compression),
  outer: z.optional(outer),
  int8PseudoGradients: z.optional(z.boolean()),
})

type Fields = z.output<typeof fields>

/** A sync spec as written (a job file's `sync:`), before defaults. */
export type SynchronizerSpecInput = z.input<typeof fields>
type Issue = { path: (string | number)[]; input: unknown; message: string }

/** The rules between fields; each problem names its field. */
function crossFieldProblems(spec: Fields): Issue[] {
  const algorithm = spec.algorithm === 'localsgd' ? 'local-sgd' : spec.algorithm
  const problems: Issue[] = []
  if (algorithm !== 'ssgd' && spec.period === undefined)
    problems.push({ path: ['period'], input: undefined, message: `a period H ≥ 1 for ${algorithm}` })
  if (algorithm === 'dreamddp' && (spec.period ?? 1) > MAX_DREAMDDP_PERIOD)
    problems.push({
      path: ['period'],
      input: spec.period,
      message: `at most ${MAX_DREAMDDP_PERIOD} for dreamddp`,
    })
  for (const key of ['outer', 'int8PseudoGradients'] as const)
    if (spec[key] !== undefined && algorithm !== 'diloco')
      problems.push({
        path: [key],
        input: spec[key],
        message: `no ${key} (DiLoCo's) for ${algorithm}`,
      })
  const codec = spec.compression?.codec ?? 'none'
  if (spec.int8PseudoGradients === true && codec !== 'none')
    problems.push({
      path: ['compression'],
      input: spec.compression,
      message: 'none beside int8PseudoGradients',
    })
  // averaging parameters sums them: top-k would drop most of each weight, not a small update
  if (codec === 'topk' && (algorithm === 'local-sgd' || algorithm === 'dreamddp'))
    problems.push({ path: ['compression', 'codec'], input: codec, message: `none or int8 for ${algorithm}` })
  return problems
}

function normalise(spec: Fields): SynchronizerSpec {
  const algorithm = spec.algorithm === 'localsgd' ? 'local-sgd' : spec.algorithm
  const parsed: SynchronizerSpec = {
    algorithm,
    period: algorithm === 'ssgd' ? 1 : (spec.period ?? 1),
    compression: (spec.compression ?? { codec: 'none' }) as SyncCompression,
  }
  if (algorithm === 'diloco') {
    parsed.outer = spec.outer ?? { lr: DEFAULT_OUTER_LR, momentum: DEFAULT_OUTER_MOMENTUM }
    parsed.int8PseudoGradients = spec.int8PseudoGradients ?? false
  }
  return parsed
}

/**
 * The job file's `sync:` schema (embed it as a field: `sync: z.optional(synchronizerSpec)`). Objects
 * are strict: a misspelt key in a file someone wrote is an error, not a default.
 */
export const synchronizerSpec: z.ZodMiniType<SynchronizerSpec, unknown> = z.pipe(
  fields.check(
    z.superRefine((spec, ctx) => {
      for (const problem of crossFieldProblems(spec)) ctx.issues.push({ code: 'custom', ...problem })
    }),
  ),
  z.transform(normalise),
)

/** Parses a sync spec; SyncSpecError names the field (`sync.period: expected …, found …`). */
export function parseSynchronizerSpec(value: unknown, root = 'sync'): SynchronizerSpec {
  return parseWith(synchronizerSpec, value, SyncSpecError, { root })
}
