import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { attr } from '../src/graph/types.ts'
import { float32, int64 } from '../src/tensor.ts'
import { bool, run1, runOp, values } from './ops-helpers.ts'

const x = float32([2, 3], [1, 2, 3, 4, 5, 6])
const i64 = (v: number[]) => int64([v.length], v)
const shapeOf = (t: { shape: readonly number[] }) => [...t.shape]

describe('reference: reshapes', () => {
  it('Reshape with 0 and -1, allowzero', () => {
    assert.deepEqual(shapeOf(run1('Reshape', { x, s: i64([3, -1]) })), [3, 2])
    assert.deepEqual(shapeOf(run1('Reshape', { x, s: i64([0, 1, -1]) })), [2, 1, 3])
    const empty = float32([0, 3], [])
    assert.deepEqual(shapeOf(run1('Reshape', { empty, s: i64([3, 0]) }, { allowzero: attr.int(1) })), [3, 0])
    assert.throws(() => run1('Reshape', { x, s: i64([4, 2]) }), { name: 'ShapeInferenceError' })
  })
  it('Flatten, Squeeze, Unsqueeze (axes input at 13, attribute at 11)', () => {
    const t = float32([2, 1, 3, 1], [1, 2, 3, 4, 5, 6])
    assert.deepEqual(shapeOf(run1('Flatten', { t }, { axis: attr.int(2) })), [2, 3])
    assert.deepEqual(shapeOf(run1('Flatten', { t }, { axis: attr.int(0) })), [1, 6])
    assert.deepEqual(shapeOf(run1('Squeeze', { t })), [2, 3])
    assert.deepEqual(shapeOf(run1('Squeeze', { t, a: i64([-1]) })), [2, 1, 3])
    assert.deepEqual(shapeOf(run1('Squeeze', { t }, { axes: attr.ints([1]) }, 11)), [2, 3, 1])
    assert.deepEqual(shapeOf(run1('Unsqueeze', { x, a: i64([0, -1]) })), [1, 2, 3, 1])
    assert.deepEqual(shapeOf(run1('Unsqueeze', { x }, { axes: attr.ints([1]) }, 11)), [2, 1, 3])
  })
})

describe('reference: movement', () => {
  it('Transpose with perm and default reverse', () => {
    assert.deepEqual(values(run1('Transpose', { x })), [1, 4, 2, 5, 3, 6])
    const t = float32([2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7])
    assert.deepEqual(
      values(run1('Transpose', { t }, { perm: attr.ints([1, 2, 0]) })),
      [0, 4, 1, 5, 2, 6, 3, 7],
    )
  })
  it('Concat on any axis', () => {
    const y = float32([2, 1], [9, 8])
    assert.deepEqual(values(run1('Concat', { x, y }, { axis: attr.int(1) })), [1, 2, 3, 9, 4, 5, 6, 8])
    assert.deepEqual(
      values(run1('Concat', { x, x2: x }, { axis: attr.int(0) })),
      [1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6],
    )
  })
  it('Split by sizes (input), equally, and by num_outputs with a short last part', () => {
    const [a, b] = runOp('Split', { x, s: i64([1, 2]) }, { axis: attr.int(1) }, 18, ['a', 'b'])
    assert.deepEqual(values(a), [1, 4])
    assert.deepEqual(values(b), [2, 3, 5, 6])
    const [p, q] = runOp('Split', { x }, {}, 13, ['p', 'q'])
    assert.deepEqual(values(p), [1, 2, 3])
    assert.deepEqual(values(q), [4, 5, 6])
    const t = float32([5], [1, 2, 3, 4, 5])
    const parts = runOp('Split', { t }, { num_outputs: attr.int(2) }, 18, ['u', 'v'])
    assert.deepEqual(parts.map(values), [
      [1, 2, 3],
      [4, 5],
    ])
    const old = runOp('Split', { t }, { split: attr.ints([4, 1]) }, 11, ['u', 'v'])
    assert.deepEqual(old.map(values), [[1, 2, 3, 4], [5]])
  })
  it('Slice with negative bounds, steps, clamping and INT64_MAX ends', () => {
    const t = float32([6], [0, 1, 2, 3, 4, 5])
    assert.deepEqual(values(run1('Slice', { t, s: i64([1]), e: i64([-1]) })), [1, 2, 3, 4])
    assert.deepEqual(
      values(run1('Slice', { t, s: i64([-1]), e: i64([-1000]), a: i64([0]), st: i64([-2]) })),
      [5, 3, 1],
    )
    assert.deepEqual(
      values(run1('Slice', { t, s: i64([2]), e: int64([1], [Number.MAX_SAFE_INTEGER]) })),
      [2, 3, 4, 5],
    )
    assert.deepEqual(values(run1('Slice', { x, s: i64([1]), e: i64([3]), a: i64([-1]) })), [2, 3, 5, 6])
    assert.deepEqual(shapeOf(run1('Slice', { t, s: i64([4]), e: i64([2]) })), [0])
  })
  it('Expand, Tile', () => {
    const col = float32([2, 1], [1, 2])
    assert.deepEqual(values(run1('Expand', { col, s: i64([2, 3]) })), [1, 1, 1, 2, 2, 2])
    assert.deepEqual(shapeOf(run1('Expand', { col, s: i64([3, 1, 1]) })), [3, 2, 1])
    assert.deepEqual(values(run1('Tile', { col, r: i64([2, 2]) })), [1, 1, 2, 2, 1, 1, 2, 2])
  })
  it('Pad constant, reflect and edge', () => {
    const t = float32([3], [1, 2, 3])
    assert.deepEqual(values(run1('Pad', { t, p: i64([2, 1]), c: float32([], [9]) })), [9, 9, 1, 2, 3, 9])
    assert.deepEqual(
      values(run1('Pad', { t, p: i64([2, 2]) }, { mode: attr.string('reflect') })),
      [3, 2, 1, 2, 3, 2, 1],
    )
    assert.deepEqual(
      values(run1('Pad', { t, p: i64([1, 2]) }, { mode: attr.string('edge') })),
      [1, 1, 2, 3, 3, 3],
    )
  })
  it('Trilu upper and lower with k, batched', () => {
    const m = float32([1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9])
    assert.deepEqual(values(run1('Trilu', { m })), [1, 2, 3, 0, 5, 6, 0, 0, 9])
    assert.deepEqual(values(run1('Trilu', { m, k: int64([], [1]) })), [0, 2, 3, 0, 0, 6, 0, 0, 0])
    assert.deepEqual(values(run1('Trilu', { m }, { upper: attr.int(0) })), [1, 0, 0, 4, 5, 0, 7, 8, 9])
    assert.deepEqual(
      values(run1('Trilu', { m, k: int64([], [-1]) }, { upper: attr.int(0) })),
      [0, 0, 0, 4, 0, 0, 7, 8, 0],
    )
  })
})

describe('reference: indexing', () => {
  it('Gather on axis 0 (embedding) and axis 1, negative indices, out-of-range error', () => {
    const emb = float32([3, 2], [0, 1, 10, 11, 20, 21])
    const ids = int64([2, 2], [2, 0, 1, -1])
    const y = run1('Gather', { emb, ids })
    assert.deepEqual(shapeOf(y), [2, 2, 2])
    assert.deepEqual(values(y), [20, 21, 0, 1, 10, 11, 20, 21])
    assert.deepEqual(values(run1('Gather', { x, i: int64([], [2]) }, { axis: attr.int(1) })), [3, 6])
    assert.throws(() => run1('Gather', { emb, ids: int64([1], [3]) }), {
      name: 'KernelError',
      message: /out of range/,
    })
  })
  it('GatherElements and ScatterElements (none, add)', () => {
    const idx = int64([2, 2], [0, 2, 1, 0])
    assert.deepEqual(values(run1('GatherElements', { x, idx }, { axis: attr.int(1) })), [1, 3, 5, 4])
    const upd = float32([2, 2], [10, 20, 30, 40])
    assert.deepEqual(
      values(run1('ScatterElements', { x, idx, upd }, { axis: attr.int(1) })),
      [10, 2, 20, 40, 30, 6],
    )
    const same = int64([1, 2], [1, 1])
    const u2 = float32([1, 2], [5, 7])
    assert.deepEqual(
      values(run1('ScatterElements', { x, same, u2 }, { axis: attr.int(1), reduction: attr.string('add') })),
      [1, 14, 3, 4, 5, 6],
    )
  })
  it('OneHot with negative indices and off/on values', () => {
    const y = run1('OneHot', { i: int64([3], [0, 2, -1]), d: int64([], [3]), v: float32([2], [0, 5]) })
    assert.deepEqual(shapeOf(y), [3, 3])
    assert.deepEqual(values(y), [5, 0, 0, 0, 0, 5, 0, 0, 5])
    const z = run1(
      'OneHot',
      { i: int64([2], [1, 0]), d: int64([], [2]), v: float32([2], [0, 1]) },
      { axis: attr.int(0) },
    )
    assert.deepEqual(values(z), [0, 1, 1, 0])
  })
})

describe('reference: generators and shape queries', () => {
  it('Shape with start/end, Size, ConstantOfShape, Range', () => {
    const t = float32([2, 3, 4], new Float32Array(24))
    assert.deepEqual(values(run1('Shape', { t })), [2, 3, 4])
    assert.deepEqual(values(run1('Shape', { t }, { start: attr.int(-2), end: attr.int(3) })), [3, 4])
    assert.deepEqual(values(run1('Size', { t })), [24])
    const c = run1('ConstantOfShape', { s: int64([2], [2, 2]) }, { value: attr.tensor(int64([1], [7])) })
    assert.equal(c.dtype, 'int64')
    assert.deepEqual(values(c), [7, 7, 7, 7])
    assert.deepEqual(
      values(run1('Range', { a: float32([], [1]), b: float32([], [2.1]), c: float32([], [0.5]) })),
      [1, 1.5, 2],
    )
    assert.deepEqual(
      values(run1('Range', { a: int64([], [5]), b: int64([], [0]), c: int64([], [-2]) })),
      [5, 3, 1],
    )
  })
  it('Dropout: identity in inference, seeded scaled mask in training', () => {
    const t = float32([1000], new Float32Array(1000).fill(1))
    const [y0, m0] = runOp('Dropout', { t }, {}, 18, ['y', 'm'])
    assert.equal(y0, t)
    assert.ok(values(m0).every((v) => v === 1))
    const train = { t, r: float32([], [0.25]), on: bool([], [1]) }
    const [y, m] = runOp('Dropout', train, { seed: attr.int(7) }, 18, ['y', 'm'])
    const kept = values(m).filter((v) => v === 1).length
    assert.ok(kept > 700 && kept < 800, `kept ${kept} of 1000 at ratio 0.25`)
    const mask = values(m)
    assert.deepEqual(
      values(y),
      mask.map((k) => (k ? Math.fround(4 / 3) : 0)),
    )
    const [, again] = runOp('Dropout', train, { seed: attr.int(7) }, 18, ['y', 'm'])
    assert.deepEqual(values(again), values(m))
    const [, other] = runOp('Dropout', train, { seed: attr.int(8) }, 18, ['y', 'm'])
    assert.notDeepEqual(values(other), values(m))
  })
})
