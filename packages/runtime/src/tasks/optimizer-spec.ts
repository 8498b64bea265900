import * as z from 'zod/mini'
import { TaskInputError } from '../errors.ts'
import { adamw } from '../optim/adamw.ts'
import type { Optimizer } from '../optim/optimizer.ts'
import type { Parameter } from '../optim/parameter.ts'
import { sgd } from '../optim/sgd.ts'

const nonNegative = z.optional(z.number().check(z.gte(0)))
const fraction = z.optional(z.number().check(z.gte(0), z.lte(1)))
const flag = z.optional(z.boolean())
/** PyTorch refuses β ≥ 1: the moment estimates would never forget. */
const beta = z.number().check(z.gte(0), z.lt(1))
/** AdamW's worker threads: more than this is a typo, not a machine. */
const MAX_THREADS = 1024

const sgdSpec = z
  .strictObject({
    kind: z.literal('sgd'),
    momentum: nonNegative,
    dampening: fraction,
    nesterov: flag,
    weightDecay: nonNegative,
  })
  .check(
    z.superRefine((spec, ctx) => {
      // PyTorch's rule: Nesterov looks ahead along an undamped momentum, so it needs one
      if (spec.nesterov === true && ((spec.momentum ?? 0) === 0 || (spec.dampening ?? 0) !== 0))
        ctx.issues.push({
          code: 'custom',
          path: ['nesterov'],
          input: spec.nesterov,
          message: 'Nesterov only with a momentum > 0 and zero dampening',
        })
    }),
  )

/**
 * An optimizer as data (job files, flags, checkpoint records); defaults are PyTorch's. Each kind takes
 * its own options only, so a betas given to SGD is refused rather than ignored, and each option's
 * range is the one `sgd` and `adamw` enforce, so a job file's mistake is found before any work.
 */
export const optimizerSpec = z.discriminatedUnion('kind', [
  sgdSpec,
  z.strictObject({
    kind: z.literal('adamw'),
    betas: z.optional(z.tuple([beta, beta])),
    eps: nonNegative,
    weightDecay: nonNegative,
    amsgrad: flag,
    threads: z.optional(z.int().check(z.gte(1), z.lte(MAX_THREADS))),
  }),
])

export type OptimizerSpec = z.infer<typeof optimizerSpec>

export function makeOptimizer(spec: OptimizerSpec, params: readonly Parameter[]): Optimizer {
  if (spec.kind === 'sgd') return sgd(params, spec)
  if (spec.kind === 'adamw') return adamw(params, spec)
  throw new TaskInputError(`unknown optimizer '${(spec as { kind: string }).kind}' (known: sgd, adamw)`)
}

/** Whether the optimizer runs on worker threads, and so needs Parameters in shared memory. */
export function needsSharedParameters(spec: OptimizerSpec): boolean {
  return spec.kind === 'adamw' && (spec.threads ?? 1) > 1
}
