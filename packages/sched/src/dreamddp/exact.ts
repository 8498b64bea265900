import { DEFAULT_MAX_STATES } from '../constants.ts'
import { type SingleSchedule, solveContiguous } from './contiguous.ts'
import { lowerBounder } from './bound.ts'
import { expand, type Front, initialFront, pareto, reconstruct, select } from './front.ts'
import { type SyncProblem, timeline } from './model.ts'

/** The exact solver's answer: a schedule, and how far from optimal it can be. */
export interface ExactResult extends SingleSchedule {
  /** true when the search finished without dropping states: the schedule is optimal under the model */
  optimal: boolean
  /** a proven lower bound on the optimal wait per period (equal to waitPerPeriod when optimal) */
  lowerBound: number
  /** states explored, for the record */
  states: number
}

export interface ExactOptions {
  /** largest Pareto front kept per layer before the search degrades to a beam (default 256) */
  maxStates?: number
}

/**
 * Exact minimum-wait schedule, one sync per layer (a second sync of a layer never lowers the wait,
 * since adding a message to a FIFO channel delays nothing earlier and may delay what follows).
 *
 * Why not only the contiguous DP: the problem is NP-hard — with all backward time in the last layer,
 * zero wait means packing the other layers' all-reduce times into H bins of size T (bin packing; for
 * H = 2 it is PARTITION) — and contiguous groups miss optima (comm [3,2,3,2,2], T = 6, H = 2:
 * contiguous best 1, optimum 0). So this is a dynamic program over layers in backward order whose
 * state is the sorted vector of the H channel end times; it is exact because
 *  - iterations are interchangeable (sorted vectors), and ends below the next ready time are equal
 *    in effect (clamped to it);
 *  - an iteration whose channel runs past T gains exactly comm[ℓ] of wait from every later layer, so
 *    its end is capped at T and the excess moved into one scalar `debt` per state;
 *  - a state A is never worse than B if debt_A + Σ_h max(0, a_h − b_h) ≤ debt_B (sorted ends): a
 *    channel that ends δ later makes its iteration end at most δ later (Pareto pruning);
 *  - a state whose lower bound reaches the best known schedule is dropped (branch and bound, seeded
 *    by the contiguous DP).
 * Layers with zero all-reduce time change no state and go to iteration 0. Worst case is exponential:
 * past `maxStates` the front is cut to its most promising states, `optimal` becomes false and
 * `lowerBound` still bounds the optimum from below.
 */
export function solveExact(problem: SyncProblem, options: ExactOptions = {}): ExactResult {
  const seed = solveContiguous(problem)
  const space = searchSpace(problem)
  // A narrow beam first: a good upper bound lets branch and bound prune most of the exact search.
  const beam = search(space, seed.waitPerPeriod, BEAM_WIDTH)
  const ub = Math.min(seed.waitPerPeriod, beam.cost)
  const full = search(space, ub, options.maxStates ?? DEFAULT_MAX_STATES)
  const found = [full, beam].find((r) => r.assignment !== null && r.cost <= ub)
  const iterationOfLayer = found?.assignment ?? seed.iterationOfLayer
  const waitPerPeriod = found?.cost ?? seed.waitPerPeriod
  // Every dropped state had a lower bound ≥ droppedBound; if that is no better, nothing was lost.
  const optimal = full.droppedBound >= waitPerPeriod - space.tol
  const lowerBound = optimal ? waitPerPeriod : full.droppedBound
  return { iterationOfLayer, waitPerPeriod, optimal, lowerBound, states: beam.states + full.states }
}

/** Beam width of the bound-finding pass: wide enough to land near the optimum on the profiles. */
const BEAM_WIDTH = 64

/** How many times the width of candidates the Pareto filter sees at most. */
const PRE_PARETO = 4

interface Space {
  H: number
  T: number
  L: number
  /** backward indices of the layers with comm > 0, in backward order */
  order: number[]
  ready: Float64Array
  comm: Float64Array
  bound: (ends: Float64Array, base: number, k: number) => number
  tol: number
}

function searchSpace(problem: SyncProblem): Space {
  const tl = timeline(problem)
  const T = tl.backwardEnd
  const order = problem.comm.flatMap((c, l) => (c > 0 ? [l] : []))
  const ready = Float64Array.from(order, (l) => tl.ready[l])
  const comm = Float64Array.from(order, (l) => problem.comm[l])
  const H = problem.period
  const bound = lowerBounder(ready, comm, T, H)
  return { H, T, L: problem.bp.length, order, ready, comm, bound, tol: 1e-12 * (1 + T) }
}

interface SearchResult {
  /** best schedule strictly under the upper bound, or null */
  assignment: number[] | null
  cost: number
  /** least lower bound among states dropped for width (Infinity if none) */
  droppedBound: number
  states: number
}

/** Breadth-first over layers, keeping the Pareto front of states under `ub`, at most `width`. */
function search(space: Space, ub: number, width: number): SearchResult {
  const { H, T, ready, comm, bound, tol } = space
  const n = ready.length
  let droppedBound = Infinity
  let states = 0
  let front: Front = initialFront(H, n > 0 ? ready[0] : T)
  const trail: { parent: Int32Array; slot: Uint8Array }[] = []
  for (let k = 0; k < n; k++) {
    const cand = expand(front, H, ready[k], comm[k], k + 1 < n ? ready[k + 1] : T, T)
    states += cand.size
    const lbs = new Float64Array(cand.size)
    const keep: number[] = []
    for (let s = 0; s < cand.size; s++) {
      lbs[s] = cand.debt[s] + bound(cand.ends, s * H, k + 1)
      if (lbs[s] < ub - tol) keep.push(s)
    }
    // The Pareto filter is quadratic: cut an oversized candidate list by bound before it, too.
    const cut = (list: number[], size: number) => {
      if (list.length <= size) return list
      list.sort((a, b) => lbs[a] - lbs[b])
      for (let i = size; i < list.length; i++) droppedBound = Math.min(droppedBound, lbs[list[i]])
      return list.slice(0, size)
    }
    const kept = cut(pareto(cand, cut(keep, PRE_PARETO * width), H), width)
    front = select(cand, kept, H)
    trail.push({ parent: front.parent, slot: front.chosen })
  }
  let best = -1
  for (let s = 0; s < front.size; s++) {
    if (front.debt[s] < ub - tol && (best < 0 || front.debt[s] < front.debt[best])) best = s
  }
  if (best < 0) return { assignment: null, cost: Infinity, droppedBound, states }
  const assignment = reconstruct(space.L, space.order, trail, best)
  return { assignment, cost: front.debt[best], droppedBound, states }
}
