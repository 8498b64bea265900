import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  decodeSparse,
  decodeSparseEntries,
  encodeSparse,
  selectSampled,
  selectTopK,
  topk,
  topkSampled,
} from '../src/index.ts'
import { EDGE_CASES, normals, rng } from './helpers.ts'

/** The reference: sort by magnitude (NaN largest), ties to the lower index; indices ascending. */
function topkBySort(x: Float32Array, k: number): number[] {
  const key = (i: number) => (Number.isNaN(x[i]) ? Number.POSITIVE_INFINITY : Math.abs(x[i]))
  const order = Array.from(x.keys()).sort((a, b) => {
    const d = key(b) - key(a)
    return d > 0 || d < 0
      ? d
      : Number.isNaN(x[a]) !== Number.isNaN(x[b])
        ? Number.isNaN(x[a])
          ? -1
          : 1
        : a - b
  })
  return order.slice(0, k).sort((a, b) => a - b)
}

test('exact top-k equals a sort on random data, for many k', () => {
  const x = normals(20_000, 1)
  for (const k of [0, 1, 2, 17, 200, 1999, 10_000, 19_999, 20_000]) {
    assert.deepEqual([...selectTopK(x, k)], topkBySort(x, k), `k = ${k}`)
  }
})

test('exact top-k breaks ties by lower index', () => {
  const random = rng(2)
  // Few distinct magnitudes: every boundary is a tie, in the high and in the low radix level.
  const x = Float32Array.from(
    { length: 5000 },
    () => (random() < 0.5 ? -1 : 1) * [1, 2, 3, 1 + 2 ** -20][(random() * 4) | 0],
  )
  for (const k of [1, 100, 1234, 2500, 4999])
    assert.deepEqual([...selectTopK(x, k)], topkBySort(x, k), `k = ${k}`)
  assert.deepEqual([...selectTopK(EDGE_CASES.equalMagnitudes, 3)], [0, 1, 2])
})

test('exact top-k ranks NaN above infinity, and handles the edge cases', () => {
  assert.deepEqual([...selectTopK(Float32Array.of(1, Number.NaN, Number.NEGATIVE_INFINITY, -5), 2)], [1, 2])
  for (const [name, x] of Object.entries(EDGE_CASES)) {
    for (const k of new Set([0, x.length >> 1, x.length])) {
      assert.deepEqual([...selectTopK(x, k)], topkBySort(x, k), `${name}, k = ${k}`)
    }
  }
  assert.throws(() => selectTopK(new Float32Array(3), 4), { name: 'InvalidOptionError' })
  assert.throws(() => selectTopK(new Float32Array(3), -1), { name: 'InvalidOptionError' })
})

test('top-k round trip: kept values at their indices, zeros elsewhere, every coding', () => {
  const x = normals(3000, 4)
  const keep = new Set(topkBySort(x, 300))
  for (const values of ['float32', 'float16'] as const) {
    for (const index of ['varint', 'deflate'] as const) {
      const encoded = topk.encode(x, { k: 300, values, index })
      assert.equal(encoded.codec, 'sparse')
      const y = topk.decode(encoded)
      for (let i = 0; i < x.length; i++) {
        if (!keep.has(i)) assert.equal(y[i], 0)
        else if (values === 'float32') assert.equal(y[i], x[i])
        else assert.ok(Math.abs(y[i] - x[i]) <= Math.abs(x[i]) * 2 ** -11)
      }
    }
  }
})

test('sparse round trip of the edge cases with k = 0, k = n and between', () => {
  for (const [name, x] of Object.entries(EDGE_CASES)) {
    for (const k of new Set([0, x.length >> 1, x.length])) {
      const kept = new Set(topkBySort(x, k))
      const y = decodeSparse(topk.encode(x, { k }))
      for (let i = 0; i < x.length; i++)
        assert.ok(Object.is(y[i], kept.has(i) ? x[i] : 0), `${name} k=${k} [${i}]`)
      // Sampled: each value kept exactly or dropped, and no dropped one larger than a kept one.
      const { indices, values } = decodeSparseEntries(topkSampled.encode(x, { k }))
      const keptBySample = new Set(indices)
      let smallestKept = Number.POSITIVE_INFINITY
      let largestDropped = 0
      for (let i = 0; i < x.length; i++) {
        const magnitude = Number.isNaN(x[i]) ? Number.POSITIVE_INFINITY : Math.abs(x[i])
        if (keptBySample.has(i)) smallestKept = Math.min(smallestKept, magnitude)
        else largestDropped = Math.max(largestDropped, magnitude)
      }
      assert.ok(indices.length === 0 || smallestKept >= largestDropped, `sampled ${name} k=${k}`)
      for (let j = 0; j < indices.length; j++) assert.ok(Object.is(values[j], x[indices[j]]))
      if (k === 0 || k === x.length) assert.equal(indices.length, k)
    }
  }
})

test('sampled top-k keeps the top k when the sampled threshold lets enough through', () => {
  const x = normals(200_000, 9)
  const k = 2000
  // The threshold is set low and the surplus trimmed: for every seed here, exactly the top k.
  const reference = topkBySort(x, k)
  for (let seed = 1; seed <= 5; seed++)
    assert.deepEqual([...selectSampled(x, { k, seed })], reference, `seed ${seed}`)
  // Ties at the trimmed boundary go to the lower index, as in the exact selection.
  const random = rng(4)
  const tied = Float32Array.from({ length: 100_000 }, () => [1, 2, 3, 4][(random() * 4) | 0])
  assert.deepEqual([...selectSampled(tied, { k: 10_000 })], topkBySort(tied, 10_000))
  assert.deepEqual(selectSampled(x, { k, seed: 5 }), selectSampled(x, { k, seed: 5 }), 'deterministic')
})

test('sampled top-k falls back to exact when k is too small to sample, and round-trips', () => {
  const x = normals(100_000, 10)
  assert.deepEqual([...selectSampled(x, { k: 10 })], topkBySort(x, 10))
  const encoded = topkSampled.encode(x, { k: 1000, values: 'float16', index: 'deflate' })
  const { indices, values } = decodeSparseEntries(encoded)
  for (let j = 0; j < indices.length; j++)
    assert.ok(Math.abs(values[j] - x[indices[j]]) <= Math.abs(x[indices[j]]) * 2 ** -11)
  // Mostly zeros: the zero threshold is lifted so that only non-zeros are kept.
  const sparse = new Float32Array(100_000)
  for (let i = 0; i < 50; i++) sparse[i * 997] = i + 1
  assert.equal(selectSampled(sparse, { k: 10_000 }).length, 50)
})

test('sampled top-k rejects a bad sample size', () => {
  assert.throws(() => selectSampled(new Float32Array(10), { k: 1, sampleSize: 0 }), {
    name: 'InvalidOptionError',
  })
  assert.throws(() => selectSampled(new Float32Array(10), { k: 1, sampleSize: 2.5 }), {
    name: 'InvalidOptionError',
  })
})

test('encodeSparse refuses indices and options a decoder would reject', () => {
  const x = new Float32Array(10)
  assert.throws(() => encodeSparse(x, Uint32Array.of(3, 3), 2), { name: 'InvalidOptionError' })
  assert.throws(() => encodeSparse(x, Uint32Array.of(4, 2), 2), { name: 'InvalidOptionError' })
  assert.throws(() => encodeSparse(x, Uint32Array.of(10), 1), { name: 'InvalidOptionError' })
  assert.throws(() => encodeSparse(x, Uint32Array.of(1), 2), { name: 'InvalidOptionError' })
  const values = 'bfloat16' as 'float16'
  assert.throws(() => encodeSparse(x, Uint32Array.of(1), 1, { values }), { name: 'InvalidOptionError' })
  assert.deepEqual(
    decodeSparse(encodeSparse(Float32Array.of(1, 2, 3), Uint32Array.of(0, 2, 9), 2)),
    Float32Array.of(1, 0, 3),
  )
})

test('deflated indices of k = 0 and of one element round-trip', () => {
  for (const k of [0, 1]) {
    const x = Float32Array.of(0.5, -4, 2)
    const encoded = topk.encode(x, { k, index: 'deflate', values: 'float16' })
    assert.deepEqual(topk.decode(encoded), k === 0 ? new Float32Array(3) : Float32Array.of(0, -4, 0))
  }
})
