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
  // PyTorch multiplies even when the coefficient clamps to 1; skipping that is the same values
  scaleGrads(params, clipCoefficient(total, maxNorm))
  return total
}

/**
 * The p-norm of all gradients together: each parameter's Σ|g|^p in float64 (gradPowerSums), then
 * their sum in the parameters' order. Summing per parameter first lets stages held by different
 * processes report their parameters' sums and get the same total, to the bit, as one process does.
 */
export function globalGradNorm(params: readonly Parameter[], order = 2): number {
  const sums = gradPowerSums(params, order)
  return combineGradNorm(sums, order)
}

/** The norm from per-parameter sums (gradPowerSums), added in the order given. */
export function combineGradNorm(sums: readonly number[], order = 2): number {
  if (order === Infinity) return sums.reduce((max, a) => (a > max || Number.isNaN(a) ? a : max), 0)
  let total = 0
  for (const v of sums) total += v
  return order === 2 ? Math.sqrt(total) : total ** (1 / order)
}

/** Per parameter, Σ|g|^p in float64 (for p = ∞, max |g|). */
export function gradPowerSums(params: readonly Parameter[], order = 2): number[] {
  return params.map(({ grad }) => {
    if (order === Infinity) {
      let max = 0
      for (let i = 0; i < grad.length; i++) {
        const a = Math.abs(grad[i])
        if (a > max || Number.isNaN(a)) max = a
      }
      return max
    }
    let sum = 0
    if (order === 2) for (let i = 0; i < grad.length; i++) sum += grad[i] * grad[i]
    else for (let i = 0; i < grad.length; i++) sum += Math.abs(grad[i]) ** order
    return sum
  })
}

/** Scales every gradient in place by `coef` (clipping); 1 leaves them as they are. */
export function scaleGrads(params: readonly Parameter[], coef: number): void {
  if (coef === 1) return
  for (const { grad } of params) for (let i = 0; i < grad.length; i++) grad[i] *= coef
}

/** clip_grad_norm_'s coefficient: min(1, maxNorm / (total + 1e-6)). */
export function clipCoefficient(total: number, maxNorm: number): number {
  return Math.min(1, maxNorm / (total + CLIP_EPS))
}
