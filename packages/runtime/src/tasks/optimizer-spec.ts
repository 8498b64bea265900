import * as z from 'zod/mini'
import { TaskInputError } from '../errors.ts'
import { adamw } from '../optim/adamw.ts'
import type { Optimizer } from '../optim/optimizer.ts'
import type { Parameter } from '../optim/parameter.ts'
import { sgd } from '../optim/sgd.ts'

const number = z.optional(z.number())
const flag = z.optional(z.boolean())

/**
 * An optimizer as data (job files, flags, checkpoint records); defaults are PyTorch's. Each kind takes
 * its own options only, so a betas given to SGD is refused rather than ignored; the options' ranges
 * are checked where the optimizer is made (`sgd`, `adamw`).
 */
export const optimizerSpec = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('sgd'),
    momentum: number,
    dampening: number,
    nesterov: flag,
    weightDecay: number,
  }),
  z.strictObject({
    kind: z.literal('adamw'),
    betas: z.optional(z.tuple([z.number(), z.number()])),
    eps: number,
    weightDecay: number,
    amsgrad: flag,
    threads: z.optional(z.int()),
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
