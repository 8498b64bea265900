/**
 * The search states of the exact DreamDDP solver (exact.ts) and the operations on them. In comments,
 * T is `backwardEnd` (when backward finishes) and H the `period`.
 */

/** States of one layer, struct-of-arrays: sorted ends, which iteration holds each end, back-pointers. */
export interface Front {
  size: number
  ends: Float64Array
  /** Σ (end − T) over the iterations whose channel ran past T (their ends are stored as T) */
  debt: Float64Array
  slots: Uint8Array
  parent: Int32Array
  chosen: Uint8Array
}

export function initialFront(period: number, firstReady: number): Front {
  return {
    size: 1,
    ends: new Float64Array(period).fill(firstReady),
    debt: new Float64Array(1),
    slots: Uint8Array.from({ length: period }, (_, i) => i),
    parent: Int32Array.of(-1),
    chosen: Uint8Array.of(0),
  }
}

/** Every distinct way of adding one layer (ready at `b`, taking `c`) to every state. */
export function expand(
  front: Front,
  period: number,
  ready: number,
  comm: number,
  next: number,
  backwardEnd: number,
): Front {
  const cap = front.size * period
  const out: Front = {
    size: 0,
    ends: new Float64Array(cap * period),
    debt: new Float64Array(cap),
    slots: new Uint8Array(cap * period),
    parent: new Int32Array(cap),
    chosen: new Uint8Array(cap),
  }
  for (let s = 0; s < front.size; s++) {
    const base = s * period
    let prev = Number.NaN
    for (let i = 0; i < period; i++) {
      const start = Math.max(front.ends[base + i], ready)
      if (start === prev) continue // same effect as the previous iteration: symmetric
      prev = start
      const o = out.size * period
      out.ends.set(front.ends.subarray(base, base + period), o)
      out.slots.set(front.slots.subarray(base, base + period), o)
      const end = start + comm
      out.ends[o + i] = Math.min(end, backwardEnd)
      out.debt[out.size] = front.debt[s] + Math.max(0, end - backwardEnd)
      out.parent[out.size] = s
      out.chosen[out.size] = front.slots[base + i]
      // keep sorted: the grown end moves right past smaller ends
      for (let p = i; p + 1 < period && out.ends[o + p] > out.ends[o + p + 1]; p++) {
        swap(out.ends, o + p, o + p + 1)
        swap(out.slots, o + p, o + p + 1)
      }
      for (let p = 0; p < period && out.ends[o + p] < next; p++) out.ends[o + p] = next
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

/** Indices of the states in `keep` no other state dominates (a dominator has no larger debt + Σ ends). */
export function pareto(front: Front, keep: number[], period: number): number[] {
  const e = front.ends
  const d = front.debt
  const total = (s: number) => {
    let t = d[s]
    for (let i = 0; i < period; i++) t += e[s * period + i]
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
      for (let i = 0; i < period && slack >= 0; i++)
        slack -= Math.max(0, e[k * period + i] - e[s * period + i])
      if (slack >= 0) {
        dominated = true
        break
      }
    }
    if (!dominated) kept.push(s)
  }
  return kept
}

export function select(front: Front, kept: number[], period: number): Front {
  const out: Front = {
    size: kept.length,
    ends: new Float64Array(kept.length * period),
    debt: new Float64Array(kept.length),
    slots: new Uint8Array(kept.length * period),
    parent: new Int32Array(kept.length),
    chosen: new Uint8Array(kept.length),
  }
  kept.forEach((s, i) => {
    out.ends.set(front.ends.subarray(s * period, s * period + period), i * period)
    out.slots.set(front.slots.subarray(s * period, s * period + period), i * period)
    out.debt[i] = front.debt[s]
    out.parent[i] = front.parent[s]
    out.chosen[i] = front.chosen[s]
  })
  return out
}

export function reconstruct(
  layers: number,
  order: number[],
  trail: { parent: Int32Array; slot: Uint8Array }[],
  last: number,
): number[] {
  const iterationOfLayer = new Array<number>(layers).fill(0)
  let s = last
  for (let k = trail.length - 1; k >= 0; k--) {
    iterationOfLayer[order[k]] = trail[k].slot[s]
    s = trail[k].parent[s]
  }
  return iterationOfLayer
}
