import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { attr } from '../src/graph/types.ts'
import { onnxCodeOfDtype } from '../src/ops/index.ts'
import { floatToHalf, halfToFloat } from '../src/reference/values.ts'
import { erf } from '../src/reference/math.ts'
import { float32, int64, tensor } from '../src/tensor.ts'
import { assertClose, bool, f64, run1, values } from './ops-helpers.ts'

describe('reference: unary', () => {
  const x = f64([5], [-2, -0.5, 0, 0.5, 3])
  const cases: [string, (v: number) => number, object?][] = [
    ['Neg', (v) => -v],
    ['Abs', Math.abs],
    ['Exp', Math.exp],
    ['Tanh', Math.tanh],
    ['Sigmoid', (v) => 1 / (1 + Math.exp(-v))],
    ['Relu', (v) => Math.max(0, v)],
    ['LeakyRelu', (v) => (v < 0 ? 0.1 * v : v), { alpha: attr.float(0.1) }],
    ['Softplus', (v) => Math.log(1 + Math.exp(v))],
    ['Elu', (v) => (v < 0 ? Math.exp(v) - 1 : v)],
    ['HardSigmoid', (v) => Math.min(1, Math.max(0, 0.2 * v + 0.5))],
    ['Floor', Math.floor],
    ['Reciprocal', (v) => 1 / v],
    ['Sign', Math.sign],
    ['Softsign', (v) => v / (1 + Math.abs(v))],
    ['Identity', (v) => v],
  ]
  for (const [op, f, attrs] of cases) {
    it(op, () => assertClose(run1(op, { x }, attrs), values(x).map(f), 1e-12))
  }
  it('Round is half to even; Sqrt and Log of negatives are NaN', () => {
    assert.deepEqual(
      values(run1('Round', { x: f64([6], [0.5, 1.5, 2.5, -0.5, -1.5, 2.4]) })),
      [0, 2, 2, -0, -2, 2],
    )
    assertClose(run1('Sqrt', { x: f64([2], [4, -1]) }), [2, Number.NaN])
    assertClose(run1('Log', { x: f64([2], [Math.E, -1]) }), [1, Number.NaN])
  })
  it('Erf matches tabulated values to 1e-14', () => {
    // erf(0.5), erf(1), erf(2), erf(3.5) from Python's math.erf
    const table: [number, number][] = [
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [3.5, 0.9999992569016276],
      [-1, -0.8427007929497149],
    ]
    for (const [x, e] of table) assert.ok(Math.abs(erf(x) - e) < 1e-14, `erf(${x}) = ${erf(x)}`)
  })
  it('Gelu exact and tanh', () => {
    const v = f64([3], [-1, 0.3, 2])
    assertClose(
      run1('Gelu', { x: v }),
      [-0.15865525393145707, 0.18537342665668577, 1.9544997361036416],
      1e-12,
    )
    assertClose(
      run1('Gelu', { x: v }, { approximate: attr.string('tanh') }),
      [-0.15880800939172324, 0.18537092354275922, 1.954597694087775],
      1e-12,
    )
  })
  it('Clip with min/max inputs (opset 13) and attributes (opset 6)', () => {
    const x = float32([4], [-3, -1, 1, 3])
    assert.deepEqual(
      values(run1('Clip', { x, lo: float32([], [-2]), hi: float32([], [2]) }, {}, 13)),
      [-2, -1, 1, 2],
    )
    assert.deepEqual(values(run1('Clip', { x }, { min: attr.float(0) }, 6)), [0, 0, 1, 3])
  })
  it('IsNaN, IsInf, Not give bool', () => {
    const x = f64([4], [Number.NaN, Infinity, -Infinity, 1])
    assert.deepEqual(values(run1('IsNaN', { x })), [1, 0, 0, 0])
    assert.deepEqual(values(run1('IsInf', { x }, { detect_negative: attr.int(0) })), [0, 1, 0, 0])
    assert.deepEqual(values(run1('Not', { x: bool([2], [1, 0]) })), [0, 1])
  })
})

describe('reference: binary and broadcasting', () => {
  const a = float32([2, 3], [1, 2, 3, 4, 5, 6])
  const b = float32([3], [10, 20, 30])
  it('Add/Sub/Mul/Div/Pow broadcast a row', () => {
    assert.deepEqual(values(run1('Add', { a, b })), [11, 22, 33, 14, 25, 36])
    assert.deepEqual(values(run1('Sub', { a, b })), [-9, -18, -27, -6, -15, -24])
    assert.deepEqual(values(run1('Mul', { a, b })), [10, 40, 90, 40, 100, 180])
    assertClose(run1('Div', { a, b }), [0.1, 0.1, 0.1, 0.4, 0.25, 0.2])
    assert.deepEqual(values(run1('Pow', { a, e: float32([1], [2]) })), [1, 4, 9, 16, 25, 36])
  })
  it('broadcasts a column against a row', () => {
    const col = float32([2, 1], [1, 2])
    const row = float32([1, 3], [10, 20, 30])
    const y = run1('Mul', { col, row })
    assert.deepEqual([...y.shape], [2, 3])
    assert.deepEqual(values(y), [10, 20, 30, 20, 40, 60])
  })
  it('integer Div truncates and Mod follows the divisor sign (fmod=0) or C (fmod=1)', () => {
    const x = int64([4], [7, -7, 7, -7])
    const y = int64([4], [2, 2, -2, -2])
    assert.deepEqual(values(run1('Div', { x, y })), [3, -3, -3, 3])
    assert.deepEqual(values(run1('Mod', { x, y })), [1, 1, -1, -1])
    assert.deepEqual(values(run1('Mod', { x, y }, { fmod: attr.int(1) })), [1, -1, 1, -1])
  })
  it('comparisons and logic give bool', () => {
    assert.deepEqual(values(run1('Equal', { a, b: float32([], [2]) })), [0, 1, 0, 0, 0, 0])
    assert.deepEqual(values(run1('Less', { a, b: float32([], [3]) })), [1, 1, 0, 0, 0, 0])
    assert.deepEqual(values(run1('Greater', { a, b: float32([], [3]) })), [0, 0, 0, 1, 1, 1])
    assert.deepEqual(values(run1('LessOrEqual', { a, b: float32([], [3]) })), [1, 1, 1, 0, 0, 0])
    assert.deepEqual(values(run1('GreaterOrEqual', { a, b: float32([], [3]) })), [0, 0, 1, 1, 1, 1])
    const p = bool([4], [0, 0, 1, 1])
    const q = bool([4], [0, 1, 0, 1])
    assert.deepEqual(values(run1('And', { p, q })), [0, 0, 0, 1])
    assert.deepEqual(values(run1('Or', { p, q })), [0, 1, 1, 1])
    assert.deepEqual(values(run1('Xor', { p, q })), [0, 1, 1, 0])
  })
  it('variadic Min, Max, Sum, Mean broadcast all inputs', () => {
    const c = float32([2, 1], [0, 100])
    assert.deepEqual(values(run1('Max', { a, b: float32([], [3.5]), c })), [3.5, 3.5, 3.5, 100, 100, 100])
    assert.deepEqual(values(run1('Min', { a, c })), [0, 0, 0, 4, 5, 6])
    assert.deepEqual(values(run1('Sum', { a, b, c })), [11, 22, 33, 114, 125, 136])
    assertClose(run1('Mean', { a, c }), [0.5, 1, 1.5, 52, 52.5, 53])
  })
  it('Where broadcasts condition, X and Y', () => {
    const cond = bool([1, 3], [1, 0, 1])
    assert.deepEqual(values(run1('Where', { cond, a, y: float32([], [-1]) })), [1, -1, 3, 4, -1, 6])
  })
  it('a broadcast mismatch at run time names the node', () => {
    assert.throws(() => run1('Add', { a, b: float32([2], [1, 2]) }), { name: 'BroadcastError' })
  })
})

describe('reference: Cast and dtypes', () => {
  it('casts float → int64 (truncating), → bool, → float16 and back', () => {
    const x = float32([4], [1.7, -1.7, 0, 65504])
    assert.deepEqual(
      values(run1('Cast', { x }, { to: attr.int(onnxCodeOfDtype('int64')) })),
      [1, -1, 0, 65504],
    )
    assert.deepEqual(values(run1('Cast', { x }, { to: attr.int(onnxCodeOfDtype('bool')) })), [1, 1, 0, 1])
    const h = run1('Cast', { x }, { to: attr.int(onnxCodeOfDtype('float16')) })
    assert.equal(h.dtype, 'float16')
    assert.deepEqual(values(h).map(halfToFloat), [1.7001953125, -1.7001953125, 0, 65504])
    assert.deepEqual(
      values(run1('CastLike', { x, t: f64([], [0]) })),
      [1.7000000476837158, -1.7000000476837158, 0, 65504],
    )
  })
  it('float16 arithmetic: computed exactly, rounded once to half precision', () => {
    const half = (v: number[]) => tensor('float16', [v.length], Uint16Array.from(v, floatToHalf))
    const a = half([1, 2.5, -3, 1000])
    const b = half([0.333251953125, 0.1, 0.5, 0.25])
    const y = run1('Add', { a, b })
    assert.equal(y.dtype, 'float16')
    const exact = [1 + 0.333251953125, 2.5 + halfToFloat(floatToHalf(0.1)), -2.5, 1000.25]
    assert.deepEqual(
      values(y).map(halfToFloat),
      exact.map((v) => halfToFloat(floatToHalf(v))),
    )
    assert.deepEqual(values(y).map(halfToFloat), [1.3330078125, 2.599609375, -2.5, 1000])
    const m = run1('MatMul', {
      a: tensor('float16', [1, 2], Uint16Array.from([1, 2], floatToHalf)),
      b: tensor('float16', [2, 1], Uint16Array.from([3, 4], floatToHalf)),
    })
    assert.deepEqual(values(m).map(halfToFloat), [11])
  })
  it('float16 conversion rounds to nearest even, saturates to inf, keeps subnormals', () => {
    assert.equal(floatToHalf(1), 0x3c00)
    assert.equal(floatToHalf(65520), 0x7c00)
    assert.equal(floatToHalf(2 ** -24), 1)
    assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00)
    assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02)
    assert.equal(halfToFloat(floatToHalf(-0.333251953125)), -0.333251953125)
  })
  it('casts NaN and ±infinity to int64 without throwing', () => {
    const x = f64([3], [Number.NaN, Infinity, -Infinity])
    const y = run1('Cast', { x }, { to: attr.int(onnxCodeOfDtype('int64')) })
    assert.deepEqual(Array.from(y.data as BigInt64Array), [0n, 2n ** 63n - 1n, -(2n ** 63n)])
  })
  it('an unsupported cast target is an AttributeError', () => {
    assert.throws(() => run1('Cast', { x: float32([1], [1]) }, { to: attr.int(8) }), {
      name: 'AttributeError',
    })
  })
})
