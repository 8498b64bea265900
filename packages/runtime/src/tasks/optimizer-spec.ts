import { TaskInputError } from '../errors.ts'
import { adamw } from '../optim/adamw.ts'
import type { Optimizer } from '../optim/optimizer.ts'
import type { Parameter } from '../optim/parameter.ts'
import { sgd } from '../optim/sgd.ts'

/** An optimizer as data (job files, flags, checkpoint records); defaults are PyTorch's. */
export type OptimizerSpec =
  | { kind: 'sgd'; momentum?: number; dampening?: number; nesterov?: boolean; weightDecay?: number }
  | {
      kind: 'adamw'
      betas?: [number, number]
      eps?: number
      weightDecay?: number
      amsgrad?: boolean
      threads?: number
    }

export function makeOptimizer(spec: OptimizerSpec, params: readonly Parameter[]): Optimizer {
  if (spec.kind === 'sgd') return sgd(params, spec)
  if (spec.kind === 'adamw') return adamw(params, spec)
  throw new TaskInputError(`unknown optimizer '${(spec as { kind: string }).kind}' (known: sgd, adamw)`)
}

/** Whether the optimizer runs on worker threads, and so needs Parameters in shared memory. */
export function needsSharedParameters(spec: OptimizerSpec): boolean {
  return spec.kind === 'adamw' && (spec.threads ?? 1) > 1
}
