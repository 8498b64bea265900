import { DEFAULT_MAX_STATES } from '../constants.ts'
import { type SingleSchedule, solveContiguous } from './contiguous.ts'
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

/** States of one layer, struct-of-arrays: sorted ends, which iteration holds each end, back-pointers. */
interface Front {
  size: number
  ends: Float64Array
  /** Σ (end − T) over the iterations whose channel ran past T (their ends are stored as T) */
  debt: Float64Array
  slots: Uint8Array
  parent: Int32Array
  chosen: Uint8Array
}

function initialFront(H: number, firstReady: number): Front {
  return {
    size: 1,
    ends: new Float64Array(H).fill(firstReady),
    debt: new Float64Array(1),
    slots: Uint8Array.from({ length: H }, (_, i) => i),
    parent: Int32Array.of(-1),
    chosen: Uint8Array.of(0),
  }
}

/** Every distinct way of adding one layer (ready at `b`, taking `c`) to every state. */
function expand(front: Front, H: number, b: number, c: number, next: number, T: number): Front {
  const cap = front.size * H
  const out: Front = {
    size: 0,
    ends: new Float64Array(cap * H),
    debt: new Float64Array(cap),
    slots: new Uint8Array(cap * H),
    parent: new Int32Array(cap),
    chosen: new Uint8Array(cap),
  }
  for (let s = 0; s < front.size; s++) {
    const base = s * H
    let prev = Number.NaN
    for (let i = 0; i < H; i++) {
      const start = Math.max(front.ends[base + i], b)
      if (start === prev) continue // same effect as the previous iteration: symmetric
      prev = start
      const o = out.size * H
      out.ends.set(front.ends.subarray(base, base + H), o)
      out.slots.set(front.slots.subarray(base, base + H), o)
      const end = start + c
      out.ends[o + i] = Math.min(end, T)
      out.debt[out.size] = front.debt[s] + Math.max(0, end - T)
      out.parent[out.size] = s
      out.chosen[out.size] = front.slots[base + i]
      // keep sorted: the grown end moves right past smaller ends
      for (let p = i; p + 1 < H && out.ends[o + p] > out.ends[o + p + 1]; p++) {
        swap(out.ends, o + p, o + p + 1)
        swap(out.slots, o + p, o + p + 1)
      }
      for (let p = 0; p < H && out.ends[o + p] < next; p++) out.ends[o + p] = next
      out.size++
    }
  }
  return out
}

function swap(a: Float64Array | Uint8Array, i: number, j: number): void {
  const t = a[i]
  a[i] = a[j]
  a[j] = t
}

/** Indices of the states in `keep` that no other state dominates; a dominator has no larger debt + Σ ends. */
function pareto(front: Front, keep: number[], H: number): number[] {
  const e = front.ends
  const d = front.debt
  const total = (s: number) => {
    let t = d[s]
    for (let i = 0; i < H; i++) t += e[s * H + i]
    return t
  }
  const sums = new Map(keep.map((s) => [s, total(s)]))
  const sorted = [...keep].sort((a, b) => sums.get(a)! - sums.get(b)!)
  const kept: number[] = []
  for (const s of sorted) {
    let dominated = false
    for (const k of kept) {
      // k dominates s if its debt plus how far its ends lag behind s's is no more than s's debt:
      // delaying a channel by δ delays its iteration's final end by at most δ.
      let slack = d[s] - d[k]
      for (let i = 0; i < H && slack >= 0; i++) slack -= Math.max(0, e[k * H + i] - e[s * H + i])
      if (slack >= 0) {
        dominated = true
        break
      }
    }
    if (!dominated) kept.push(s)
  }
  return kept
}

function select(front: Front, kept: number[], H: number): Front {
  const out: Front = {
    size: kept.length,
    ends: new Float64Array(kept.length * H),
    debt: new Float64Array(kept.length),
    slots: new Uint8Array(kept.length * H),
    parent: new Int32Array(kept.length),
    chosen: new Uint8Array(kept.length),
  }
  kept.forEach((s, i) => {
    out.ends.set(front.ends.subarray(s * H, s * H + H), i * H)
    out.slots.set(front.slots.subarray(s * H, s * H + H), i * H)
    out.debt[i] = front.debt[s]
    out.parent[i] = front.parent[s]
    out.chosen[i] = front.chosen[s]
  })
  return out
}

function reconstruct(
  L: number,
  order: number[],
  trail: { parent: Int32Array; slot: Uint8Array }[],
  last: number,
): number[] {
  const iterationOfLayer = new Array<number>(L).fill(0)
  let s = last
  for (let k = trail.length - 1; k >= 0; k--) {
    iterationOfLayer[order[k]] = trail[k].slot[s]
    s = trail[k].parent[s]
  }
  return iterationOfLayer
}

/**
 * A lower bound on the wait still to come (beyond the debt) of a state about to place layer k: for a cut at layer q ≥ k, the
 * layers q… cannot start before their ready time, so each iteration overflows by at least its end
 * (clamped to B_q) plus its share of their comm, minus T; letting that comm split freely (a fluid
 * relaxation) gives Σ max(0, a_h − T) + max(0, R_q − Σ max(0, T − a_h)) with a_h = max(E_h, B_q).
 * Evaluated at q = k, at the cut where R_q + H·B_q is largest, and at the last layer.
 */
function lowerBounder(ready: Float64Array, comm: Float64Array, T: number, H: number) {
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
