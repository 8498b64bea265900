import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { attr } from '../src/graph/types.ts'
import { float32, int64 } from '../src/tensor.ts'
import { assertClose, f64, run1, runOp, values } from './ops-helpers.ts'

describe('reference: MatMul and Gemm', () => {
  it('MatMul 2-D, batched with broadcasting, and 1-D operands', () => {
    const a = float32([2, 3], [1, 2, 3, 4, 5, 6])
    const b = float32([3, 2], [7, 8, 9, 10, 11, 12])
    assert.deepEqual(values(run1('MatMul', { a, b })), [58, 64, 139, 154])
    const batch = float32([2, 1, 2], [1, 2, 3, 4])
    const w = float32([2, 2], [1, 0, 0, 2])
    const y = run1('MatMul', { batch, w })
    assert.deepEqual([...y.shape], [2, 1, 2])
    assert.deepEqual(values(y), [1, 4, 3, 8])
    assert.deepEqual(values(run1('MatMul', { a, v: float32([3], [1, 1, 1]) })), [6, 15])
    assert.deepEqual(values(run1('MatMul', { v: float32([2], [1, -1]), a })), [-3, -3, -3])
  })
  it('Gemm with transA, transB, alpha, beta and a broadcast bias', () => {
    const a = float32([3, 2], [1, 4, 2, 5, 3, 6]) // Aᵀ = [[1,2,3],[4,5,6]]
    const b = float32([2, 3], [7, 9, 11, 8, 10, 12]) // Bᵀ = [[7,8],[9,10],[11,12]]
    const c = float32([2], [1, 2])
    const y = run1(
      'Gemm',
      { a, b, c },
      { transA: attr.int(1), transB: attr.int(1), alpha: attr.float(0.5), beta: attr.float(2) },
    )
    assert.deepEqual(values(y), [31, 36, 71.5, 81])
  })
})

describe('reference: Einsum', () => {
  it('broadcasts ellipsis dims of different ranks, right-aligned', () => {
    const a = float32([2, 1, 2], [1, 2, 3, 4])
    const b = float32([3, 2], [1, 0, 0, 1, 1, 1])
    const y = run1('Einsum', { a, b }, { equation: attr.string('...j,...j->...') })
    assert.deepEqual([...y.shape], [2, 3])
    assert.deepEqual(values(y), [1, 2, 3, 3, 4, 7])
  })
  it('implicit output, transposition and a bad equation', () => {
    const m = float32([2, 3], [1, 2, 3, 4, 5, 6])
    assert.deepEqual(values(run1('Einsum', { m }, { equation: attr.string('ij->ji') })), [1, 4, 2, 5, 3, 6])
    // numpy: an implicit output lists the letters alphabetically, so 'ji' transposes
    assert.deepEqual(values(run1('Einsum', { m }, { equation: attr.string('ji') })), [1, 4, 2, 5, 3, 6])
    assert.throws(() => run1('Einsum', { m }, { equation: attr.string('ijk->i') }), {
      name: 'ShapeInferenceError',
    })
  })
})

describe('reference: reductions', () => {
  const x = f64([2, 3], [1, 2, 3, 4, 5, 6])
  const axes = (v: number[]) => int64([v.length], v)
  it('ReduceSum/Mean/Max/Min/Prod with axes input and keepdims', () => {
    assert.deepEqual(values(run1('ReduceSum', { x, a: axes([1]) })), [6, 15])
    assert.deepEqual(values(run1('ReduceSum', { x })), [21])
    assert.deepEqual(
      values(run1('ReduceMean', { x, a: axes([0]) }, { keepdims: attr.int(0) })),
      [2.5, 3.5, 4.5],
    )
    assert.deepEqual(values(run1('ReduceMax', { x, a: axes([-1]) })), [3, 6])
    assert.deepEqual(values(run1('ReduceMin', { x, a: axes([0, 1]) })), [1])
    assert.deepEqual(values(run1('ReduceProd', { x, a: axes([1]) })), [6, 120])
    assertClose(run1('ReduceL2', { x, a: axes([1]) }), [Math.sqrt(14), Math.sqrt(77)], 1e-12)
    assertClose(run1('ReduceLogSumExp', { x, a: axes([1]) }), [3.40760596444438, 6.40760596444438], 1e-12)
    assert.deepEqual(values(run1('ReduceSumSquare', { x, a: axes([1]) })), [14, 77])
  })
  it('noop_with_empty_axes keeps the input; opset 13 ReduceMean uses the attribute', () => {
    assert.deepEqual(
      values(run1('ReduceSum', { x }, { noop_with_empty_axes: attr.int(1) })),
      [1, 2, 3, 4, 5, 6],
    )
    assert.deepEqual(values(run1('ReduceMean', { x }, { axes: attr.ints([1]) }, 13)), [2, 5])
  })
  it('ArgMax/ArgMin with select_last_index', () => {
    const t = float32([2, 3], [1, 5, 5, 7, 0, 0])
    assert.deepEqual(values(run1('ArgMax', { t }, { axis: attr.int(1) })), [1, 0])
    assert.deepEqual(
      values(run1('ArgMax', { t }, { axis: attr.int(1), select_last_index: attr.int(1) })),
      [2, 0],
    )
    assert.deepEqual(
      values(
        run1('ArgMin', { t }, { axis: attr.int(1), keepdims: attr.int(0), select_last_index: attr.int(1) }),
      ),
      [0, 2],
    )
  })
  it('CumSum plain, exclusive and reverse', () => {
    const t = float32([4], [1, 2, 3, 4])
    const ax = int64([], [0])
    assert.deepEqual(values(run1('CumSum', { t, ax })), [1, 3, 6, 10])
    assert.deepEqual(values(run1('CumSum', { t, ax }, { exclusive: attr.int(1) })), [0, 1, 3, 6])
    assert.deepEqual(values(run1('CumSum', { t, ax }, { reverse: attr.int(1) })), [10, 9, 7, 4])
  })
  it('Softmax and LogSoftmax on any axis, and the opset-11 2-D coercion', () => {
    const t = f64([2, 2], [0, Math.log(3), 1000, 1000])
    assertClose(run1('Softmax', { t }), [0.25, 0.75, 0.5, 0.5], 1e-12)
    assertClose(run1('LogSoftmax', { t }), [Math.log(0.25), Math.log(0.75), -Math.LN2, -Math.LN2], 1e-12)
    assertClose(run1('Softmax', { t }, { axis: attr.int(0) }), [0, 0, 1, 1], 1e-12)
    // opset 11: axis 0 means softmax over all four elements
    const flat = run1('Softmax', { t: f64([2, 2], [0, 0, 0, 0]) }, { axis: attr.int(0) }, 11)
    assertClose(flat, [0.25, 0.25, 0.25, 0.25], 1e-12)
  })
  it('reduction over multiple outputs of LayerNormalization', () => {
    const x2 = f64([2, 2], [1, 3, 2, 2])
    const [y, mean, inv] = runOp(
      'LayerNormalization',
      { x2, s: f64([2], [1, 2]), b: f64([2], [0, 1]) },
      { epsilon: attr.float(0) },
      18,
      ['y', 'mean', 'inv'],
    )
    assert.deepEqual(values(mean), [2, 2])
    assert.deepEqual(values(y).slice(0, 2), [-1, 3])
    assert.ok(Number.isNaN(values(y)[2]) || values(inv)[1] === Infinity)
  })
})
