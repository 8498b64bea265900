import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { attr } from '../src/graph/types.ts'
import { float32, int64 } from '../src/tensor.ts'
import { assertClose, f64, run1, runOp, values } from './ops-helpers.ts'

const img3 = float32([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9])
const ones2 = float32([1, 1, 2, 2], [1, 1, 1, 1])

describe('reference: Conv', () => {
  it('valid, padded + strided, dilated', () => {
    assert.deepEqual(values(run1('Conv', { img3, ones2 })), [12, 16, 24, 28])
    const padded = run1(
      'Conv',
      { img3, ones2 },
      { pads: attr.ints([1, 1, 1, 1]), strides: attr.ints([2, 2]) },
    )
    assert.deepEqual(values(padded), [1, 5, 11, 28])
    assert.deepEqual(values(run1('Conv', { img3, ones2 }, { dilations: attr.ints([2, 2]) })), [20])
  })
  it('auto_pad SAME_UPPER and SAME_LOWER', () => {
    assert.deepEqual(
      values(run1('Conv', { img3, ones2 }, { auto_pad: attr.string('SAME_UPPER') })),
      [12, 16, 9, 24, 28, 15, 15, 17, 9],
    )
    assert.deepEqual(
      values(run1('Conv', { img3, ones2 }, { auto_pad: attr.string('SAME_LOWER') })),
      [1, 3, 5, 5, 12, 16, 11, 24, 28],
    )
  })
  it('groups (depthwise) with bias, and 1-D conv', () => {
    const x = float32([1, 2, 1, 1], [3, 5])
    const w = float32([2, 1, 1, 1], [2, 10])
    assert.deepEqual(values(run1('Conv', { x, w, b: float32([2], [1, 1]) }, { group: attr.int(2) })), [7, 51])
    const x1 = float32([1, 1, 4], [1, 2, 3, 4])
    const w1 = float32([1, 1, 2], [1, -1])
    assert.deepEqual(values(run1('Conv', { x1, w1 })), [-1, -1, -1])
  })
  it('a channel mismatch is a ShapeInferenceError naming the node', () => {
    assert.throws(() => run1('Conv', { img3, w: float32([1, 2, 2, 2], new Float32Array(8)) }), {
      name: 'ShapeInferenceError',
    })
  })
})

describe('reference: pooling', () => {
  const x16 = float32(
    [1, 1, 4, 4],
    Array.from({ length: 16 }, (_, i) => i + 1),
  )
  it('MaxPool with Indices', () => {
    const [y, idx] = runOp(
      'MaxPool',
      { x16 },
      { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) },
      18,
      ['y', 'i'],
    )
    assert.deepEqual(values(y), [6, 8, 14, 16])
    assert.deepEqual(values(idx), [5, 7, 13, 15])
  })
  it('MaxPool ceil_mode keeps the partial last window', () => {
    const x25 = float32(
      [1, 1, 5, 5],
      Array.from({ length: 25 }, (_, i) => i + 1),
    )
    const k = { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) }
    assert.deepEqual(values(run1('MaxPool', { x25 }, k)), [7, 9, 17, 19])
    assert.deepEqual(
      values(run1('MaxPool', { x25 }, { ...k, ceil_mode: attr.int(1) })),
      [7, 9, 10, 17, 19, 20, 22, 24, 25],
    )
  })
  it('AveragePool count_include_pad and ceil_mode', () => {
    const x = float32([1, 1, 2, 2], [1, 2, 3, 4])
    const k = { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) }
    assertClose(run1('AveragePool', { x }, k), [2.5, 2.5, 2.5, 2.5])
    assertClose(run1('AveragePool', { x }, { ...k, count_include_pad: attr.int(1) }), [
      10 / 9,
      10 / 9,
      10 / 9,
      10 / 9,
    ])
    const row = float32([1, 1, 1, 5], [1, 2, 3, 4, 5])
    const c = { kernel_shape: attr.ints([1, 2]), strides: attr.ints([1, 2]), ceil_mode: attr.int(1) }
    assert.deepEqual(values(run1('AveragePool', { row }, c)), [1.5, 3.5, 5])
    assert.deepEqual(
      values(run1('AveragePool', { row }, { ...c, count_include_pad: attr.int(1) })),
      [1.5, 3.5, 5],
    )
  })
  it('GlobalAveragePool and GlobalMaxPool', () => {
    const y = run1('GlobalAveragePool', { x16 })
    assert.deepEqual([...y.shape], [1, 1, 1, 1])
    assert.deepEqual(values(y), [8.5])
    assert.deepEqual(values(run1('GlobalMaxPool', { x16 })), [16])
  })
})

describe('reference: normalisation', () => {
  const x = f64([1, 2, 1, 2], [1, 2, 3, 4])
  const bn = { x, s: f64([2], [1, 2]), b: f64([2], [0, 1]) }
  it('BatchNormalization inference uses the running statistics', () => {
    const y = run1(
      'BatchNormalization',
      { ...bn, m: f64([2], [1.5, 3.5]), v: f64([2], [0.25, 0.25]) },
      { epsilon: attr.float(0) },
    )
    assertClose(y, [-1, 1, -1, 3], 1e-12)
  })
  it('BatchNormalization training (opset 15): batch statistics and updated running ones', () => {
    const inputs = { ...bn, m: f64([2], [0, 0]), v: f64([2], [1, 1]) }
    const [y, rm, rv] = runOp(
      'BatchNormalization',
      inputs,
      { epsilon: attr.float(0), training_mode: attr.int(1) },
      15,
      ['y', 'rm', 'rv'],
    )
    assertClose(y, [-1, 1, -1, 3], 1e-12)
    assertClose(rm, [0.15, 0.35], 1e-12)
    assertClose(rv, [0.925, 0.925], 1e-12)
  })
  it('BatchNormalization training (opset 13): five outputs', () => {
    const inputs = { ...bn, m: f64([2], [0, 0]), v: f64([2], [1, 1]) }
    const outs = runOp('BatchNormalization', inputs, { epsilon: attr.float(0) }, 13, [
      'y',
      'rm',
      'rv',
      'sm',
      'sv',
    ])
    assertClose(outs[3], [1.5, 3.5], 1e-12)
    assertClose(outs[4], [0.25, 0.25], 1e-12)
  })
  it('LayerNormalization over the last axis with Mean and InvStdDev', () => {
    const t = f64([2, 2], [1, 3, 0, 4])
    const [y, mean, inv] = runOp(
      'LayerNormalization',
      { t, s: f64([2], [1, 2]), b: f64([2], [0, 1]) },
      {},
      18,
      ['y', 'm', 'i'],
    )
    const k = 1 / Math.sqrt(1 + 1e-5)
    const k2 = 1 / Math.sqrt(4 + 1e-5)
    assertClose(y, [-k, 2 * k + 1, -2 * k2, 4 * k2 + 1], 1e-12)
    assert.deepEqual([...mean.shape], [2, 1])
    assertClose(mean, [2, 2], 1e-12)
    assertClose(inv, [k, k2], 1e-12)
  })
})

describe('reference: losses', () => {
  const scores = f64([2, 3], [0, 0, 0, 1, 2, 3])
  const labels = int64([2], [0, 2])
  const l0 = Math.log(3)
  const l1 = Math.log(1 + Math.exp(-1) + Math.exp(-2))
  it('SoftmaxCrossEntropyLoss mean, sum, none, and log_prob', () => {
    const [loss, logp] = runOp('SoftmaxCrossEntropyLoss', { scores, labels }, {}, 13, ['loss', 'logp'])
    assertClose(loss, [(l0 + l1) / 2], 1e-12)
    assertClose(logp.data.length === 6 ? [values(logp)[0], values(logp)[5]] : [], [-l0, -l1], 1e-12)
    assertClose(
      run1('SoftmaxCrossEntropyLoss', { scores, labels }, { reduction: attr.string('sum') }, 13),
      [l0 + l1],
      1e-12,
    )
    const none = run1('SoftmaxCrossEntropyLoss', { scores, labels }, { reduction: attr.string('none') }, 13)
    assert.deepEqual([...none.shape], [2])
    assertClose(none, [l0, l1], 1e-12)
  })
  it('ignore_index and class weights in the mean', () => {
    assertClose(
      run1('SoftmaxCrossEntropyLoss', { scores, labels }, { ignore_index: attr.int(2) }, 13),
      [l0],
      1e-12,
    )
    const w = f64([3], [1, 1, 3])
    assertClose(run1('SoftmaxCrossEntropyLoss', { scores, labels, w }, {}, 13), [(l0 + 3 * l1) / 4], 1e-12)
  })
  it('spatial labels [N, d] and NegativeLogLikelihoodLoss on log-probabilities', () => {
    const s = f64([1, 2, 2], [0, 0, 0, Math.log(3)])
    const t = int64([1, 2], [1, 1])
    assertClose(
      run1('SoftmaxCrossEntropyLoss', { s, t }, { reduction: attr.string('none') }, 13),
      [Math.LN2, Math.log(4 / 3)],
      1e-12,
    )
    const logp = f64([2, 3], [-l0, -l0, -l0, -2 - l1, -1 - l1, -l1])
    assertClose(run1('NegativeLogLikelihoodLoss', { logp, labels }, {}, 13), [(l0 + l1) / 2], 1e-12)
  })
  it('an out-of-range label is a KernelError', () => {
    assert.throws(() => run1('SoftmaxCrossEntropyLoss', { scores, labels: int64([2], [0, 3]) }, {}, 13), {
      name: 'KernelError',
    })
  })
})
