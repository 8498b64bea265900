import { type SyncProblem, timeline } from './model.ts'

/** A one-sync-per-layer schedule: the iteration of each layer, and its total wait per period. */
export interface SingleSchedule {
  iterationOfLayer: number[]
  waitPerPeriod: number
}

/**
 * The best schedule among those that give every iteration a contiguous run of layers (in backward
 * order), by dynamic programming in O(H·L²). This is what ARCHITECTURE.md calls "a dynamic program
 * over contiguous groups"; it is optimal among contiguous schedules only (the general problem is
 * NP-hard, see exact.ts), and serves as the exact solver's first upper bound.
 */
export function solveContiguous(problem: SyncProblem): SingleSchedule {
  const L = problem.bp.length
  const H = problem.period
  const { ready, backwardEnd } = timeline(problem)
  // cost[i * (L + 1) + j] = wait of the group {i … j−1}
  const cost = new Float64Array((L + 1) * (L + 1))
  for (let i = 0; i < L; i++) {
    let end = 0
    for (let j = i + 1; j <= L; j++) {
      end = Math.max(end, ready[j - 1]) + problem.comm[j - 1]
      cost[i * (L + 1) + j] = Math.max(0, end - backwardEnd)
    }
  }
  // best[h][j]: least wait covering layers 0…j−1 with h groups; from[h][j]: start of the last group
  const best: Float64Array[] = [new Float64Array(L + 1).fill(Infinity)]
  best[0][0] = 0
  const from: Int32Array[] = [new Int32Array(L + 1).fill(-1)]
  for (let h = 1; h <= H; h++) {
    const prev = best[h - 1]
    const cur = new Float64Array(L + 1).fill(Infinity)
    const arg = new Int32Array(L + 1).fill(-1)
    for (let j = 0; j <= L; j++) {
      cur[j] = prev[j] // group h left empty
      arg[j] = j
    }
    for (let i = 0; i < L; i++) {
      if (prev[i] === Infinity) continue
      for (let j = i + 1; j <= L; j++) {
        const c = prev[i] + cost[i * (L + 1) + j]
        if (c < cur[j]) {
          cur[j] = c
          arg[j] = i
        }
      }
    }
    best.push(cur)
    from.push(arg)
  }
  const iterationOfLayer = new Array<number>(L).fill(0)
  let j = L
  for (let h = H; h >= 1; h--) {
    const i = from[h][j]
    for (let l = i; l < j; l++) iterationOfLayer[l] = h - 1
    j = i
  }
  return { iterationOfLayer, waitPerPeriod: best[H][L] }
}
