import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  fillIn,
  layersByIteration,
  planDreamDdp,
  type SyncProblem,
  scheduleWaits,
  solveContiguous,
  solveExact,
} from '../src/index.ts'
import { iterationWait, sum } from '../src/dreamddp/model.ts'
import { seededRandom as rng } from '@atoll/core'

const close = (a: number, b: number, msg?: string) =>
  assert.ok(Math.abs(a - b) <= 1e-9 * (1 + Math.abs(b)), msg ?? `${a} ≠ ${b}`)

/** Minimum wait over every assignment of layers to iterations (H^L of them). */
function bruteForce(p: SyncProblem): number {
  const L = p.bp.length
  let best = Infinity
  const its = new Array<number>(L).fill(0)
  for (let code = 0; code < p.period ** L; code++) {
    let c = code
    for (let l = 0; l < L; l++) {
      its[l] = c % p.period
      c = Math.floor(c / p.period)
    }
    best = Math.min(
      best,
      sum(
        scheduleWaits(
          its.map((h) => [h]),
          p,
        ),
      ),
    )
  }
  return best
}

/** `count` random instances, a third of them bin-packing-like (backward time mostly in the last layer). */
function instances(seed: number, count: number): SyncProblem[] {
  const next = rng(seed)
  return Array.from({ length: count }, (_, i) => instance(next, i))
}

function instance(next: () => number, i: number): SyncProblem {
  const L = 2 + Math.floor(next() * 7)
  const period = 1 + Math.floor(next() * 3)
  const packing = i % 3 === 0
  const bp = Array.from({ length: L }, (_, l) => (packing && l < L - 1 ? 0 : Math.round(next() * 10) / 10))
  const load = 0.3 + next() * 1.5 // total comm relative to what the period can hide
  const raw = Array.from({ length: L }, () => (next() < 0.15 ? 0 : next()))
  const scale = (load * period * (sum(bp) + 0.1)) / (sum(raw) || 1)
  return {
    names: bp.map((_, l) => `l${l}`),
    bp,
    comm: raw.map((c) => c * scale),
    period,
    tail: next() < 0.3 ? 0.2 : 0,
  }
}

describe('DreamDDP FIFO model', () => {
  it('computes start = max(ready, previous end) and the wait past the end of backward', () => {
    const p: SyncProblem = { names: ['a', 'b', 'c'], bp: [1, 1, 1], comm: [2, 0.5, 1], period: 1 }
    // a: ready 1, 1→3; b: ready 2, 3→3.5; c: ready 3, 3.5→4.5; T = 3
    close(iterationWait([0, 1, 2], p), 1.5)
    close(iterationWait([1, 2], p), 1) // b 2→2.5, c 3→4
    close(iterationWait([0], p), 0)
    close(iterationWait([0], { ...p, tail: 0.5 }), 0)
  })
})

describe('exact DreamDDP solver', () => {
  it('matches brute force on random instances with L ≤ 8, H ≤ 3', () => {
    let nonzero = 0
    for (const [i, p] of instances(7, 150).entries()) {
      const want = bruteForce(p)
      const got = solveExact(p)
      assert.ok(got.optimal, `instance ${i} not proven optimal`)
      close(got.waitPerPeriod, want, `instance ${i}: ${got.waitPerPeriod} vs brute force ${want}`)
      close(
        sum(
          scheduleWaits(
            got.iterationOfLayer.map((h) => [h]),
            p,
          ),
        ),
        got.waitPerPeriod,
      )
      if (want > 1e-9) nonzero++
    }
    assert.ok(nonzero > 50, `only ${nonzero} instances had any wait`)
  })

  it('beats contiguous groups where the optimum interleaves (a bin-packing instance)', () => {
    const p: SyncProblem = {
      names: 'abcdef'.split(''),
      bp: [0, 0, 0, 0, 0, 6],
      comm: [3, 2, 3, 2, 2, 0],
      period: 2,
    }
    close(solveContiguous(p).waitPerPeriod, 1)
    close(solveExact(p).waitPerPeriod, 0)
    close(bruteForce(p), 0)
  })

  it('reports a lower bound when the front is cut, and still a valid schedule', () => {
    const p = instance(rng(11), 1)
    const r = solveExact({ ...p, period: 3 }, { maxStates: 1 })
    assert.ok(r.lowerBound <= r.waitPerPeriod + 1e-12)
    close(
      sum(
        scheduleWaits(
          r.iterationOfLayer.map((h) => [h]),
          { ...p, period: 3 },
        ),
      ),
      r.waitPerPeriod,
    )
  })
})

describe('fill-in', () => {
  it('adds syncs without adding wait to any iteration', () => {
    let added = 0
    for (const p of instances(3, 60)) {
      const single = solveExact(p).iterationOfLayer.map((h) => [h])
      const filled = fillIn(p, single)
      const before = scheduleWaits(single, p)
      const after = scheduleWaits(filled, p)
      for (const [h, w] of after.entries()) assert.ok(w <= before[h] + 1e-9, `iteration ${h} waits longer`)
      for (const [l, its] of filled.entries())
        assert.ok(its.includes(single[l][0]) && new Set(its).size === its.length)
      added += sum(filled.map((its) => its.length)) - single.length
    }
    assert.ok(added > 0)
  })

  it('syncs every layer every iteration when the channel has room for all', () => {
    const p: SyncProblem = { names: ['a', 'b'], bp: [1, 1], comm: [0.4, 0.1], period: 3, tail: 1 }
    assert.deepEqual(fillIn(p, [[0], [2]]), [
      [0, 1, 2],
      [0, 1, 2],
    ])
  })
})

describe('fill-in with headroom', () => {
  it('adds a sync only while the channel ends by (1 − headroom)·T', () => {
    // every layer ready at once (bp 0), T = tail = 4: each of four 1 s layers, once, in its own iteration
    const p: SyncProblem = {
      names: ['a', 'b', 'c', 'd'],
      bp: [0, 0, 0, 0],
      comm: [1, 1, 1, 1],
      period: 4,
      tail: 4,
    }
    const single = [[0], [1], [2], [3]]
    // no headroom: every iteration fills to 4 s, all four layers; headroom 0.25: to 3 s, three layers
    const full = layersByIteration(fillIn(p, single), 4).map((ls) => ls.length)
    const kept = layersByIteration(fillIn(p, single, 0.25), 4).map((ls) => ls.length)
    assert.deepEqual(full, [4, 4, 4, 4])
    assert.deepEqual(kept, [3, 3, 3, 3])
    assert.deepEqual(scheduleWaits(fillIn(p, single, 0.25), p), [0, 0, 0, 0])
  })
})

describe('planDreamDdp', () => {
  it('evaluates the plan and the baselines under the same model', () => {
    const p: SyncProblem = { names: ['a', 'b', 'c'], bp: [1, 1, 1], comm: [2, 2, 2], period: 2 }
    const plan = planDreamDdp(p)
    close(plan.waitPerPeriod, sum(plan.waitPerIteration))
    close(plan.iterationTime, 3 + plan.waitPerPeriod / 2)
    close(plan.baselines.ssgd, 9)
    close(plan.baselines.localSgd, 6)
    close(plan.baselines.ssgdOverlapped, 3 + 4) // 1→3, 3→5, 5→7
    assert.ok(plan.iterationTime <= plan.baselines.localSgd)
    assert.deepEqual(Object.keys(plan.schedule), ['a', 'b', 'c'])
  })

  it('rejects a malformed problem naming the field', () => {
    const p: SyncProblem = { names: ['a', 'b'], bp: [1, Number.NaN], comm: [1, 1], period: 2 }
    assert.throws(() => planDreamDdp(p), { name: 'InvalidFieldError', message: /^bp\[1\]/ })
    assert.throws(() => planDreamDdp({ ...p, bp: [1, 1], period: 0 }), {
      name: 'InvalidFieldError',
      message: /^period/,
    })
  })
})
