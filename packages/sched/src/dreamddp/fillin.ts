import { layersByIteration, type SyncProblem, timeline } from './model.ts'

/**
 * "Fill-in": adds further synchronisations wherever an iteration's channel has room, without adding
 * wait to any iteration. Takes and returns iterations per layer; the least-synchronised layers are
 * offered first, so extra syncs go where staleness is worst.
 *
 * Inserting layer ℓ (comm c) into an iteration's FIFO set S moves its end from E = max_{j∈S} P_j,
 * with P_j = B_j + Σ_{i∈S, i≥j} comm_i, to max(max_{j>ℓ} P_j, max_{j<ℓ} P_j + c, B_ℓ + c +
 * Σ_{i∈S, i>ℓ} comm_i); with prefix and suffix maxima that test costs O(1) per candidate.
 *
 * `headroom` (a fraction of T, default 0) keeps each channel's end at most (1 − headroom)·T where it
 * adds a sync: measured times vary, and a channel filled to T turns every slower iteration into wait.
 */
export function fillIn(
  problem: SyncProblem,
  iterationsOfLayer: readonly (readonly number[])[],
  headroom = 0,
): number[][] {
  const tl = timeline(problem)
  const limit = tl.backwardEnd * (1 - headroom)
  const tol = 1e-12 * (1 + limit)
  const result = iterationsOfLayer.map((its) => [...its])
  const sets = layersByIteration(iterationsOfLayer, problem.period)
  for (let h = 0; h < problem.period; h++) {
    const member = new Uint8Array(problem.bp.length)
    for (const l of sets[h]) member[l] = 1
    const candidates = result
      .map((its, l) => ({ l, count: its.length }))
      .filter(({ l }) => member[l] === 0)
      .sort((a, b) => a.count - b.count || a.l - b.l)
    let probe = prober(sets[h], tl.ready, problem.comm)
    const allowed = Math.max(limit, probe.end) + tol
    for (const { l } of candidates) {
      if (probe.endWith(l) > allowed) continue
      member[l] = 1
      sets[h] = sets[h].concat(l).sort((a, b) => a - b)
      result[l].push(h)
      probe = prober(sets[h], tl.ready, problem.comm)
    }
  }
  return result.map((its) => its.sort((a, b) => a - b))
}

/** The channel end of `set`, and of `set` plus one more layer, by the P_j formulation above. */
function prober(set: readonly number[], ready: Float64Array, comm: readonly number[]) {
  const n = set.length
  const after = new Float64Array(n + 1) // Σ comm of set[i…]
  for (let i = n - 1; i >= 0; i--) after[i] = after[i + 1] + comm[set[i]]
  const P = Float64Array.from(set, (l, i) => ready[l] + after[i])
  const prefixMax = new Float64Array(n + 1).fill(-Infinity) // max P over set[0…i−1]
  for (let i = 0; i < n; i++) prefixMax[i + 1] = Math.max(prefixMax[i], P[i])
  const suffixMax = new Float64Array(n + 1).fill(-Infinity) // max P over set[i…]
  for (let i = n - 1; i >= 0; i--) suffixMax[i] = Math.max(suffixMax[i + 1], P[i])
  return {
    end: Math.max(0, prefixMax[n]),
    endWith(l: number): number {
      let i = 0 // members before l
      while (i < n && set[i] < l) i++
      const c = comm[l]
      return Math.max(suffixMax[i], prefixMax[i] + c, ready[l] + c + after[i])
    },
  }
}
