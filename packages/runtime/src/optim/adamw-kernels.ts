/**
 * AdamW's element loops over a range [from, to) of one parameter, shared by the optimizer on the
 * main thread and its worker threads. Stored intermediates go through Math.fround because PyTorch
 * keeps the moments (and the decayed weight) as float32 between its element-wise ops. AMSGrad has
 * its own loop: a per-element branch on an optional array halves V8's throughput here.
 */
import type { AdamwArrays, AdamwCoefficients } from '@atoll/simd'

/** One parameter's arrays. */
export interface AdamSlot extends AdamwArrays {
  /** AMSGrad's running maximum of v */
  vmax?: Float32Array
}

export function adamwRange(slot: AdamSlot, from: number, to: number, coefficients: AdamwCoefficients): void {
  const { theta, grad, m, v } = slot
  const { keep, beta2, stepSize, invBc2Sqrt, eps } = coefficients
  const w1 = 1 - coefficients.beta1
  const w2 = 1 - beta2
  for (let i = from; i < to; i++) {
    const g = grad[i]
    const mi = Math.fround(m[i] + w1 * (g - m[i])) // torch: exp_avg.lerp_(grad, 1 − β1)
    const vi = Math.fround(beta2 * v[i] + w2 * g * g)
    m[i] = mi
    v[i] = vi
    theta[i] = Math.fround(theta[i] * keep) - (stepSize * mi) / (Math.sqrt(vi) * invBc2Sqrt + eps)
  }
}

export function amsgradRange(
  slot: AdamSlot,
  from: number,
  to: number,
  coefficients: AdamwCoefficients,
): void {
  const { theta, grad, m, v } = slot
  const vmax = slot.vmax as Float32Array
  const { keep, beta2, stepSize, invBc2Sqrt, eps } = coefficients
  const w1 = 1 - coefficients.beta1
  const w2 = 1 - beta2
  for (let i = from; i < to; i++) {
    const g = grad[i]
    const mi = Math.fround(m[i] + w1 * (g - m[i]))
    const vi = Math.fround(beta2 * v[i] + w2 * g * g)
    m[i] = mi
    v[i] = vi
    const top = Math.max(vmax[i], vi)
    vmax[i] = top
    theta[i] = Math.fround(theta[i] * keep) - (stepSize * mi) / (Math.sqrt(top) * invBc2Sqrt + eps)
  }
}

/** A contiguous share of all parameters' elements: [from, to) of slot k. */
export interface Segment {
  k: number
  from: number
  to: number
}

/** Splits the concatenated elements of `lengths` into `parts` near-equal shares of segments. */
export function shares(lengths: readonly number[], parts: number): Segment[][] {
  const total = lengths.reduce((a, b) => a + b, 0)
  const out: Segment[][] = Array.from({ length: parts }, () => [])
  let offset = 0
  lengths.forEach((n, k) => {
    for (let p = 0; p < parts; p++) {
      const lo = Math.max(offset, Math.floor((p * total) / parts))
      const hi = Math.min(offset + n, Math.floor(((p + 1) * total) / parts))
      if (hi > lo) out[p].push({ k, from: lo - offset, to: hi - offset })
    }
    offset += n
  })
  return out
}
