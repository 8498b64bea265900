import { NonFiniteGradientError, OptimizerConfigError } from '../errors.ts'
import type { Parameter } from './parameter.ts'

/** PyTorch's guard against dividing by a zero norm in clip_grad_norm_. */
const CLIP_EPS = 1e-6

export interface ClipOptions {
  /** p of the p-norm (default 2); Infinity for the max-abs norm */
  normType?: number
  /** throw NonFiniteGradientError when the total norm is NaN or ±∞ (default false, as PyTorch) */
  errorIfNonfinite?: boolean
}

/**
 * torch.nn.utils.clip_grad_norm_: the total p-norm over all gradients (as if concatenated) is
 * returned, and every gradient is scaled in place by min(1, maxNorm / (total + 1e-6)).
 */
export function clipGradNorm(
  params: readonly Parameter[],
  maxNorm: number,
  options: ClipOptions = {},
): number {
  const p = options.normType ?? 2
  if (!(maxNorm >= 0)) throw new OptimizerConfigError(`max norm must be ≥ 0, got ${maxNorm}`)
  if (!(p > 0)) throw new OptimizerConfigError(`norm type must be > 0, got ${p}`)
  const total = globalGradNorm(params, p)
  if (options.errorIfNonfinite && !Number.isFinite(total)) {
    throw new NonFiniteGradientError(`the total ${p}-norm of the gradients is ${total}`)
  }
  const coef = Math.min(1, maxNorm / (total + CLIP_EPS))
  // PyTorch multiplies even when the coefficient clamps to 1; skipping that is the same values
  if (coef < 1 || Number.isNaN(coef)) {
    for (const param of params) {
      const g = param.grad
      for (let i = 0; i < g.length; i++) g[i] *= coef
    }
  }
  return total
}

/** The p-norm of all gradients together, accumulated in float64. */
export function globalGradNorm(params: readonly Parameter[], order = 2): number {
  if (order === Infinity) {
    let max = 0
    for (const param of params) {
      const g = param.grad
      for (let i = 0; i < g.length; i++) {
        const a = Math.abs(g[i])
        if (a > max || Number.isNaN(a)) max = a
      }
    }
    return max
  }
  let sum = 0
  if (order === 2) {
    for (const param of params) {
      const g = param.grad
      for (let i = 0; i < g.length; i++) sum += g[i] * g[i]
    }
    return Math.sqrt(sum)
  }
  for (const param of params) {
    const g = param.grad
    for (let i = 0; i < g.length; i++) sum += Math.abs(g[i]) ** order
  }
  return sum ** (1 / order)
}
