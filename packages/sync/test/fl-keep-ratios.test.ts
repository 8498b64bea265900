/**
 * BCRS keep ratios against hand-computed cases: ρ_k = clamp(c·B_k, min, max) with c solved so the
 * mean ratio is the budget, clamped clients' shares redistributed over the others.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { seededRandom } from '@atoll/core'
import { bcrsKeepRatios, type ClientBandwidth, FlOptionError } from '../src/index.ts'

const MB = 1e6
const clients = (...bandwidths: number[]): ClientBandwidth[] =>
  bandwidths.map((b, i) => ({ client: `c${i}`, bandwidthBps: b * MB }))
const ratios = (list: ClientBandwidth[], mean: number, min: number, max: number) => [
  ...bcrsKeepRatios(list, { mean, min, max }).values(),
]
const close = (actual: number[], expected: number[]) => {
  assert.equal(actual.length, expected.length)
  for (const [i, a] of actual.entries())
    assert.ok(Math.abs(a - expected[i]) < 1e-12, `ratio ${i}: ${a} ≠ ${expected[i]}`)
}

test('no clamp: ratios proportional to bandwidth, the mean is the budget, uploads take the same time', () => {
  // B = 1, 2, 5, 12 MB/s, ΣB = 20; mean 0.1 over 4 clients → Σρ = 0.4 = c·20 → c = 0.02/(MB/s)
  // ρ = 0.02, 0.04, 0.10, 0.24 (all inside [0.01, 1]); upload time ρ·S/B = 0.02·S for each
  const list = clients(1, 2, 5, 12)
  const got = ratios(list, 0.1, 0.01, 1)
  close(got, [0.02, 0.04, 0.1, 0.24])
  const seconds = got.map((r, i) => r / list[i].bandwidthBps)
  for (const s of seconds) assert.ok(Math.abs(s - seconds[0]) < 1e-20)
})

test('clamps at both ends, the freed and taken budget redistributed over the unclamped clients', () => {
  // B = 1, 4, 10, 25, mean 0.25 (Σρ = 1), min 0.05, max 0.5.
  // Proportional: c = 1/40 → 0.025, 0.1, 0.25, 0.625: the slowest is below min, the fastest above max.
  // Clamped: 0.05 + 0.5 = 0.55 fixed, 0.45 left for B = 4 and 10: c = 0.45/14 = 0.0321428…
  // → ρ = 0.05, 4·0.45/14 = 0.1285714…, 10·0.45/14 = 0.3214285…, 0.5 (c·1 = 0.032 < min, c·25 = 0.80 > max: consistent)
  const got = ratios(clients(1, 4, 10, 25), 0.25, 0.05, 0.5)
  close(got, [0.05, (4 * 0.45) / 14, (10 * 0.45) / 14, 0.5])
  assert.ok(Math.abs(got.reduce((a, b) => a + b) / 4 - 0.25) < 1e-12)
})

test('a clamp that moves the others past a bound is solved in the right segment', () => {
  // B = 1, 2, 100, mean 0.3 (Σρ = 0.9), min 0.1, max 0.6.
  // Proportional-then-clamp would give 0.1, 0.1, 0.6 (mean 0.267, under budget).
  // The fastest at max: 0.3 left for B = 1 and 2 → c = 0.1 → ρ = 0.1 (just at min), 0.2, 0.6; c·100 = 10 > max.
  close(ratios(clients(1, 2, 100), 0.3, 0.1, 0.6), [0.1, 0.2, 0.6])
})

test('one client gets the budget; equal bandwidths all get it; budget at a bound puts everyone there', () => {
  close(ratios(clients(7), 0.05, 0.001, 1), [0.05])
  close(ratios(clients(3, 3, 3), 0.2, 0.01, 1), [0.2, 0.2, 0.2])
  close(ratios(clients(1, 10, 100), 0.01, 0.01, 0.5), [0.01, 0.01, 0.01])
  close(ratios(clients(1, 10, 100), 0.5, 0.01, 0.5), [0.5, 0.5, 0.5])
})

test('random bandwidths: in bounds, mean = budget, equal upload time for the unclamped clients', () => {
  const random = seededRandom(14)
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + Math.floor(random() * 12)
    const list = clients(...Array.from({ length: n }, () => 0.1 + random() * 50))
    const min = 0.001 + random() * 0.05
    const max = min + random() * (1 - min)
    const mean = min + random() * (max - min)
    const got = ratios(list, mean, min, max)
    assert.ok(Math.abs(got.reduce((a, b) => a + b) / n - mean) < 1e-12, `trial ${trial}: mean`)
    for (const r of got) assert.ok(r >= min && r <= max)
    const free = got.map((r, i) => ({ r, b: list[i].bandwidthBps })).filter(({ r }) => r > min && r < max)
    for (const { r, b } of free)
      assert.ok(Math.abs(r / b - free[0].r / free[0].b) < 1e-9 * (free[0].r / free[0].b))
  }
})

test('a bandwidth that is zero, negative, NaN or infinite is an error naming the client', () => {
  for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    const list = [
      { client: 'fast', bandwidthBps: 10 * MB },
      { client: 'phone-7', bandwidthBps: bad },
    ]
    assert.throws(
      () => bcrsKeepRatios(list, { mean: 0.1, min: 0.01, max: 1 }),
      (err: Error) =>
        err instanceof FlOptionError &&
        err.message.includes(`client 'phone-7'`) &&
        err.message.includes(String(bad)),
    )
  }
})

test('an empty list, a client twice, or bounds without 0 < min ≤ mean ≤ max ≤ 1 are errors', () => {
  const budget = { mean: 0.1, min: 0.01, max: 1 }
  assert.throws(() => bcrsKeepRatios([], budget), /at least one client/)
  assert.throws(() => bcrsKeepRatios([...clients(1), ...clients(2)], budget), /'c0' is listed twice/)
  for (const bad of [
    { mean: 0.1, min: 0, max: 1 },
    { mean: 0.005, min: 0.01, max: 1 },
    { mean: 0.6, min: 0.01, max: 0.5 },
    { mean: 0.5, min: 0.01, max: 1.5 },
  ]) {
    assert.throws(() => bcrsKeepRatios(clients(1, 2), bad), FlOptionError)
  }
})
