import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  createRandom,
  dirichletPartition,
  epochOrder,
  indicesByClass,
  labelSkew,
  mixSeed,
  permutation,
  shard,
} from '../src/index.ts'

test('permutations are deterministic by seed, complete, and differ across seeds and epochs', () => {
  const a = permutation(1000, 7)
  assert.deepEqual(a, permutation(1000, 7))
  assert.deepEqual(
    Array.from(a).sort((x, y) => x - y),
    Array.from({ length: 1000 }, (_, i) => i),
  )
  assert.notDeepEqual(a, permutation(1000, 8))
  assert.notDeepEqual(epochOrder(1000, 7, 0), epochOrder(1000, 7, 1))
  assert.deepEqual(epochOrder(1000, 7, 3), epochOrder(1000, 7, 3))
  assert.notEqual(mixSeed(1, 2), mixSeed(2, 1))
})

test('the random source has the right moments: uniform, normal, and Gamma for α below and above 1', () => {
  const r = createRandom(42)
  const n = 40000
  let su = 0
  let sn = 0
  let sn2 = 0
  for (let i = 0; i < n; i++) {
    su += r.float()
    const z = r.normal()
    sn += z
    sn2 += z * z
  }
  assert.ok(Math.abs(su / n - 0.5) < 0.01)
  assert.ok(Math.abs(sn / n) < 0.02)
  assert.ok(Math.abs(sn2 / n - 1) < 0.03)
  for (const shape of [0.3, 1, 4.5]) {
    let s = 0
    let s2 = 0
    for (let i = 0; i < n; i++) {
      const g = Math.exp(r.logGamma(shape))
      s += g
      s2 += g * g
    }
    const mean = s / n
    const variance = s2 / n - mean * mean
    assert.ok(Math.abs(mean - shape) < 0.05 * shape + 0.01, `Gamma(${shape}) mean ${mean}`)
    assert.ok(Math.abs(variance - shape) < 0.1 * shape + 0.02, `Gamma(${shape}) variance ${variance}`)
  }
  assert.ok(Number.isFinite(r.logGamma(1e-3))) // the sample underflows; its log does not
})

test('shards are disjoint, cover every index, and differ in size by at most one', () => {
  const order = epochOrder(103, 1, 0)
  const shards = [0, 1, 2, 3].map((p) => shard(order, p, 4))
  const all = shards.flatMap((s) => Array.from(s)).sort((x, y) => x - y)
  assert.deepEqual(
    all,
    Array.from({ length: 103 }, (_, i) => i),
  )
  const sizes = shards.map((s) => s.length)
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1)
  assert.throws(() => shard(order, 4, 4), { name: 'DatasetError' })
  assert.throws(() => shard(order, 0, 0), { name: 'DatasetError' })
})

// 10 classes of uneven size, as a stand-in for real labels
const labels = Uint8Array.from({ length: 6000 }, (_, i) => (i * 7 + (i % 13)) % 10)

test('a Dirichlet partition gives every sample to exactly one client, deterministically', () => {
  const parts = dirichletPartition(labels, { alpha: 0.5, clients: 8, seed: 3 })
  assert.equal(parts.length, 8)
  const seen = new Uint8Array(labels.length)
  for (const p of parts) for (const i of p) seen[i]++
  assert.ok(seen.every((c) => c === 1))
  assert.deepEqual(parts, dirichletPartition(labels, { alpha: 0.5, clients: 8, seed: 3 }))
  assert.notDeepEqual(parts, dirichletPartition(labels, { alpha: 0.5, clients: 8, seed: 4 }))
  // α = 0.001: the gamma samples underflow, the log-space Dirichlet still yields a full partition
  const tiny = dirichletPartition(labels, { alpha: 0.001, clients: 8, seed: 3 })
  assert.equal(
    tiny.reduce((a, p) => a + p.length, 0),
    labels.length,
  )
})

test('label skew grows as α shrinks', () => {
  const skew = (alpha: number) => {
    let s = 0
    for (const seed of [1, 2, 3])
      s += labelSkew(labels, dirichletPartition(labels, { alpha, clients: 10, seed }))
    return s / 3
  }
  const [s100, s1, s01] = [skew(100), skew(1), skew(0.1)]
  assert.ok(s100 < 0.1, `α=100 should be near IID, skew ${s100}`)
  assert.ok(s100 < s1 && s1 < s01, `skews ${s100}, ${s1}, ${s01}`)
  assert.ok(s01 > 0.5, `α=0.1 should be strongly non-IID, skew ${s01}`)
  // an IID split has (almost) no skew; one class per client has the most
  assert.ok(
    labelSkew(
      labels,
      [0, 1, 2].map((p) => shard(epochOrder(6000, 0, 0), p, 3)),
    ) < 0.05,
  )
  assert.ok(labelSkew(labels, indicesByClass(labels)) > 0.85)
})

test('a minimum per client is met by resampling, or refused when impossible', () => {
  const parts = dirichletPartition(labels, { alpha: 0.3, clients: 20, seed: 9, minPerClient: 20 })
  assert.ok(parts.every((p) => p.length >= 20))
  assert.throws(() => dirichletPartition(labels, { alpha: 0.3, clients: 20, seed: 9, minPerClient: 400 }), {
    name: 'DatasetError',
  })
  assert.throws(() => dirichletPartition(labels, { alpha: 0, clients: 2, seed: 1 }), { name: 'DatasetError' })
})
