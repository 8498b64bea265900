/**
 * A lower bound on the wait still to come (beyond the debt) of a state about to place layer k: for
 * a cut at layer q ≥ k, the layers q… cannot start before their ready time, so each iteration
 * overflows by at least its end (clamped to B_q) plus its share of their comm, minus T; letting
 * that comm split freely (a fluid relaxation) gives
 * Σ max(0, a_h − T) + max(0, R_q − Σ max(0, T − a_h)) with a_h = max(E_h, B_q).
 * Evaluated at q = k, at the cut where R_q + H·B_q is largest, and at the last layer.
 */
export function lowerBounder(ready: Float64Array, comm: Float64Array, T: number, H: number) {
  const n = ready.length
  const suffix = new Float64Array(n + 1)
  for (let q = n - 1; q >= 0; q--) suffix[q] = suffix[q + 1] + comm[q]
  const critical = new Int32Array(n + 1).fill(n)
  for (let q = n - 1; q >= 0; q--) {
    const c = critical[q + 1]
    const here = suffix[q] + H * ready[q]
    critical[q] = c === n || here >= suffix[c] + H * ready[c] ? q : c
  }
  const atCut = (ends: Float64Array, base: number, q: number) => {
    const b = q < n ? ready[q] : T
    let over = 0
    let idle = 0
    for (let i = 0; i < H; i++) {
      const a = Math.max(ends[base + i], b)
      if (a > T) over += a - T
      else idle += T - a
    }
    return over + Math.max(0, suffix[q] - idle)
  }
  return (ends: Float64Array, base: number, k: number): number => {
    let lb = atCut(ends, base, k)
    if (critical[k] !== k) lb = Math.max(lb, atCut(ends, base, critical[k]))
    if (k < n - 1) lb = Math.max(lb, atCut(ends, base, n - 1))
    return lb
  }
}
