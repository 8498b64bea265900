/** Scalar functions the kernels need that Math lacks, accurate to float64 (finite differences need it). */

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI)
/** Below this |x| the Taylor series of erf is used; above, the continued fraction of erfc. */
const ERF_SERIES_LIMIT = 3

export function erf(value: number): number {
  if (Number.isNaN(value)) return value
  const a = Math.abs(value)
  if (a < ERF_SERIES_LIMIT) {
    // Σ (-1)^n x^(2n+1) / (n! (2n+1)); terms peak near e^{x²} < 1e4, so ~12 digits survive
    let term = a
    let sum = a
    const x2 = a * a
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n
      const t = term / (2 * n + 1)
      sum += t
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break
    }
    return Math.sign(value) * TWO_OVER_SQRT_PI * sum
  }
  // erfc(a) = e^{-a²}/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + …)))), evaluated from the tail
  let k = a
  for (let n = 60; n >= 1; n--) k = a + n / 2 / k
  const erfc = Math.exp(-a * a) / (Math.sqrt(Math.PI) * k)
  return Math.sign(value) * (1 - erfc)
}

export function sigmoid(value: number): number {
  if (value >= 0) return 1 / (1 + Math.exp(-value))
  const e = Math.exp(value)
  return e / (1 + e)
}

export function softplus(value: number): number {
  return value > 0 ? value + Math.log1p(Math.exp(-value)) : Math.log1p(Math.exp(value))
}

/** Round half to even, as ONNX Round specifies. */
export function roundHalfEven(value: number): number {
  const r = Math.round(value)
  return r - value === 0.5 && r % 2 !== 0 ? r - 1 : r
}
