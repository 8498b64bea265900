/**
 * A lower bound on the wait still to come (beyond the debt) of a state about to place layer k: for
 * a cut at layer q ≥ k, the layers q… cannot start before their ready time, so each iteration
 * overflows by at least its end (clamped to B_q) plus its share of their comm, minus T; letting
 * that comm split freely (a fluid relaxation) gives
 * Σ max(0, a_h − T) + max(0, R_q − Σ max(0, T − a_h)) with a_h = max(E_h, B_q).
 * The largest over every cut q ≥ k. T is `backwardEnd` (when backward finishes, B_{L−1}) and H the
 * `period`, as in ARCHITECTURE.md's notation.
 */
export function lowerBounder(ready: Float64Array, comm: Float64Array, backwardEnd: number, period: number) {
  const n = ready.length
  const suffix = new Float64Array(n + 1)
  for (let q = n - 1; q >= 0; q--) suffix[q] = suffix[q + 1] + comm[q]
  // The search keeps ends sorted and capped at T, so a_h ≤ T and the bound at cut q is
  // R_q − H·T + Σ_h max(E_h, B_q); one sweep over q (B_q ascending) with a pointer into the
  // sorted ends evaluates every cut in O(n − k + H).
  return (ends: Float64Array, base: number, k: number): number => {
    let total = 0
    for (let h = 0; h < period; h++) total += ends[base + h]
    let lb = 0
    let p = 0
    let below = 0
    for (let q = k; q < n; q++) {
      const b = ready[q]
      while (p < period && ends[base + p] < b) below += ends[base + p++]
      const value = suffix[q] - period * backwardEnd + (total - below) + p * b
      if (value > lb) lb = value
    }
    return lb
  }
}
