/**
 * Reference kernels cross-checked against onnxruntime-node CPU: each case is a one-node graph with
 * seeded random inputs, exported with exportOnnx and run by both. One session per case keeps this
 * to a couple of seconds.
 */
import { describe, it } from 'node:test'
import { attr } from '../src/graph/types.ts'
import { ELEMENTWISE_SHAPES, sameAsInput } from '../src/ops/shape/elementwise.ts'
import { int64 } from '../src/tensor.ts'
import { bool } from './ops-helpers.ts'
import { type Case, compareWithOrt, randn } from './reference-ort.ts'

const x23 = randn([2, 3], 1)
const x234 = randn([2, 3, 4], 2)
const img = randn([2, 4, 7, 7], 3)
const pos = randn([2, 3, 4], 4, 0.1, 3)
const unit = randn([2, 3, 4], 4, -0.95, 0.95)
const i64 = (v: number[]) => int64([v.length], v)

/** Unary ops defined only for positive inputs. */
const POSITIVE_ONLY = new Set(['Sqrt', 'Log', 'Reciprocal'])
/** Unary ops defined only on (−1, 1). */
const UNIT_ONLY = new Set(['Asin', 'Acos'])

/**
 * Every op whose shape function says its output is its input's shape and dtype (the unary
 * elementwise ops, softmaxes, Identity), once each with default attributes: an op added to that
 * list is cross-checked here without another line.
 */
const SAME_SHAPE_CASES: Case[] = Object.entries(ELEMENTWISE_SHAPES)
  .filter(([, shapeOf]) => shapeOf === sameAsInput)
  .map(([op]) => ({
    op,
    inputs: { x: POSITIVE_ONLY.has(op) ? pos : UNIT_ONLY.has(op) ? unit : x234 },
    opset: op === 'Gelu' ? 20 : undefined,
  }))

const CASES: Case[] = [
  ...SAME_SHAPE_CASES,
  { op: 'LeakyRelu', inputs: { x: x234 }, attrs: { alpha: attr.float(0.2) } },
  { op: 'Gelu', inputs: { x: x234 }, attrs: { approximate: attr.string('tanh') }, opset: 20 },
  { op: 'Clip', inputs: { x: x234, lo: randn([], 5, -1, 0), hi: randn([], 6, 0, 1) } },
  ...['Add', 'Sub', 'Mul', 'Div', 'Min', 'Max'].map((op) => ({
    op,
    inputs: { a: x234, b: randn([3, 1], 7) },
  })),
  { op: 'Pow', inputs: { a: pos, b: randn([4], 8) } },
  { op: 'PRelu', inputs: { a: x234, s: randn([4], 9) } },
  { op: 'Mean', inputs: { a: x234, b: randn([4], 10), c: randn([3, 1], 11) } },
  { op: 'Where', inputs: { c: bool([3, 1], [1, 0, 1]), a: x234, b: randn([4], 12) } },
  { op: 'MatMul', inputs: { a: randn([2, 1, 3, 5], 13), b: randn([4, 5, 6], 14) } },
  {
    op: 'Gemm',
    inputs: { a: randn([5, 3], 15), b: randn([4, 5], 16), c: randn([4], 17) },
    attrs: { transA: attr.int(1), transB: attr.int(1), alpha: attr.float(0.7), beta: attr.float(1.3) },
  },
  {
    op: 'Einsum',
    inputs: { a: randn([2, 3, 5], 43), b: randn([2, 5, 4], 44) },
    attrs: { equation: attr.string('bij,bjk->bik') },
  },
  {
    op: 'Einsum',
    inputs: { a: randn([2, 3, 4, 5], 45), b: randn([2, 3, 6, 5], 46) },
    attrs: { equation: attr.string('...qd,...kd->...qk') },
  },
  { op: 'Einsum', inputs: { a: randn([3, 3], 47) }, attrs: { equation: attr.string('ii->i') } },
  {
    op: 'Einsum',
    inputs: { a: randn([3, 4], 48), b: randn([4], 49), c: randn([3], 50) },
    attrs: { equation: attr.string('ij,j,i') },
  },
  {
    op: 'Einsum',
    inputs: { a: randn([2, 3, 4], 51), b: randn([1, 3, 4], 52) },
    attrs: { equation: attr.string('...j,...j->...') },
  },
  { op: 'Softmax', inputs: { x: x234 }, attrs: { axis: attr.int(1) } },
  { op: 'Softmax', inputs: { x: x234 }, attrs: { axis: attr.int(1) }, opset: 11 },
  { op: 'LayerNormalization', inputs: { x: x234, s: randn([4], 18), b: randn([4], 19) }, outputs: 3 },
  { op: 'LayerNormalization', inputs: { x: x234, s: randn([3, 4], 20) }, attrs: { axis: attr.int(1) } },
  {
    op: 'BatchNormalization',
    inputs: { x: img, s: randn([4], 21), b: randn([4], 22), m: randn([4], 23), v: randn([4], 24, 0.5, 2) },
  },
  {
    op: 'Conv',
    inputs: { x: img, w: randn([6, 2, 3, 3], 25), b: randn([6], 26) },
    attrs: {
      group: attr.int(2),
      strides: attr.ints([2, 1]),
      pads: attr.ints([1, 0, 2, 1]),
      dilations: attr.ints([1, 2]),
    },
  },
  {
    op: 'Conv',
    inputs: { x: img, w: randn([3, 4, 2, 2], 27) },
    attrs: { auto_pad: attr.string('SAME_LOWER'), strides: attr.ints([2, 2]) },
  },
  {
    op: 'Conv',
    inputs: { x: randn([1, 2, 9], 28), w: randn([3, 2, 3], 29) },
    attrs: { pads: attr.ints([1, 1]) },
  },
  {
    op: 'MaxPool',
    inputs: { x: img },
    attrs: { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), ceil_mode: attr.int(1) },
    outputs: 2,
  },
  {
    op: 'MaxPool',
    inputs: { x: img },
    attrs: { kernel_shape: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]), dilations: attr.ints([2, 2]) },
  },
  {
    op: 'AveragePool',
    inputs: { x: img },
    attrs: {
      kernel_shape: attr.ints([3, 3]),
      strides: attr.ints([2, 2]),
      pads: attr.ints([1, 1, 1, 1]),
      count_include_pad: attr.int(1),
    },
  },
  {
    op: 'AveragePool',
    inputs: { x: img },
    attrs: { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]), ceil_mode: attr.int(1) },
  },
  {
    op: 'AveragePool',
    inputs: { x: img },
    attrs: { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) },
  },
  {
    op: 'ConvTranspose',
    inputs: { x: img, w: randn([4, 3, 3, 3], 53), b: randn([3], 54) },
    attrs: { strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]), output_padding: attr.ints([1, 0]) },
  },
  {
    op: 'ConvTranspose',
    inputs: { x: img, w: randn([4, 2, 2, 3], 55) },
    attrs: { group: attr.int(2), dilations: attr.ints([2, 1]), strides: attr.ints([1, 2]) },
  },
  {
    op: 'ConvTranspose',
    inputs: { x: img, w: randn([4, 1, 3, 3], 56) },
    attrs: { strides: attr.ints([2, 2]), output_shape: attr.ints([14, 13]) },
  },
  {
    op: 'ConvTranspose',
    inputs: { x: img, w: randn([4, 2, 3, 3], 57) },
    attrs: { strides: attr.ints([2, 2]), auto_pad: attr.string('SAME_UPPER') },
  },
  {
    op: 'ConvTranspose',
    inputs: { x: randn([1, 2, 5], 58), w: randn([2, 3, 3], 59) },
    attrs: { pads: attr.ints([1, 2]) },
  },
  { op: 'InstanceNormalization', inputs: { x: img, s: randn([4], 60), b: randn([4], 61) } },
  {
    op: 'GroupNormalization',
    inputs: { x: img, s: randn([2], 62), b: randn([2], 63) },
    attrs: { num_groups: attr.int(2) },
  },
  {
    op: 'GroupNormalization',
    inputs: { x: img, s: randn([4], 64), b: randn([4], 65) },
    attrs: { num_groups: attr.int(2) },
    opset: 21,
  },
  { op: 'TopK', inputs: { x: x234, k: int64([1], [2]) }, attrs: { axis: attr.int(1) }, outputs: 2 },
  { op: 'TopK', inputs: { x: x234, k: int64([1], [3]) }, attrs: { largest: attr.int(0) }, outputs: 2 },
  { op: 'NonZero', inputs: { x: bool([2, 3], [1, 0, 0, 1, 1, 0]) } },
  { op: 'GlobalAveragePool', inputs: { x: img } },
  ...[
    'ReduceSum',
    'ReduceMean',
    'ReduceMax',
    'ReduceMin',
    'ReduceProd',
    'ReduceL2',
    'ReduceLogSumExp',
    'ReduceSumSquare',
    'ReduceL1',
  ].map((op) => ({
    op,
    inputs: { x: x234, axes: i64([0, -1]) },
  })),
  {
    op: 'ReduceMean',
    inputs: { x: x234 },
    attrs: { axes: attr.ints([1]), keepdims: attr.int(0) },
    opset: 13,
  },
  { op: 'ArgMax', inputs: { x: x234 }, attrs: { axis: attr.int(2) } },
  {
    op: 'CumSum',
    inputs: { x: x234, a: int64([], [1]) },
    attrs: { reverse: attr.int(1), exclusive: attr.int(1) },
  },
  { op: 'Transpose', inputs: { x: x234 }, attrs: { perm: attr.ints([1, 2, 0]) } },
  { op: 'Slice', inputs: { x: x234, s: i64([3, 0]), e: i64([-10, 2]), a: i64([2, 0]), st: i64([-2, 1]) } },
  {
    op: 'Split',
    inputs: { x: randn([2, 7], 30) },
    attrs: { axis: attr.int(1), num_outputs: attr.int(3) },
    outputs: 3,
  },
  { op: 'Concat', inputs: { a: x23, b: randn([2, 2], 31) }, attrs: { axis: attr.int(-1) } },
  { op: 'Expand', inputs: { x: randn([3, 1], 32), s: i64([2, 1, 4]) } },
  { op: 'Tile', inputs: { x: x23, r: i64([2, 3]) } },
  { op: 'Pad', inputs: { x: x23, p: i64([1, 2, 0, 1]) }, attrs: { mode: attr.string('reflect') } },
  { op: 'Trilu', inputs: { x: x234, k: int64([], [1]) }, attrs: { upper: attr.int(0) } },
  { op: 'Gather', inputs: { x: x234, i: int64([2, 2], [0, -1, 2, 1]) }, attrs: { axis: attr.int(1) } },
  {
    op: 'GatherElements',
    inputs: { x: x234, i: int64([2, 3, 2], [0, 1, 2, 3, 3, 2, 1, 0, 0, 0, 3, 3]) },
    attrs: { axis: attr.int(2) },
  },
  {
    op: 'ScatterElements',
    inputs: { x: x23, i: int64([2, 2], [2, 0, 1, 1]), u: randn([2, 2], 33) },
    attrs: { axis: attr.int(1), reduction: attr.string('add') },
  },
  { op: 'GatherND', inputs: { x: x234, i: int64([2, 1, 1], [2, 0]) }, attrs: { batch_dims: attr.int(1) } },
  { op: 'GatherND', inputs: { x: x234, i: int64([3, 2], [0, 1, 1, 2, 1, -1]) } },
  { op: 'ScatterND', inputs: { x: x234, i: int64([2, 2], [0, 1, 1, 2]), u: randn([2, 4], 38) } },
  {
    op: 'ScatterND',
    inputs: { x: x234, i: int64([1, 1], [1]), u: randn([1, 3, 4], 39) },
    attrs: { reduction: attr.string('mul') },
  },
  {
    op: 'SoftmaxCrossEntropyLoss',
    inputs: { x: randn([3, 5, 2], 34), t: int64([3, 2], [0, 4, 2, -100, 1, 3]) },
    attrs: { ignore_index: attr.int(-100) },
    outputs: 2,
  },
  {
    op: 'SoftmaxCrossEntropyLoss',
    inputs: { x: randn([4, 5], 35), t: int64([4], [0, 4, 2, 1]), w: randn([5], 36, 0.5, 2) },
    attrs: { reduction: attr.string('sum') },
  },
  { op: 'NegativeLogLikelihoodLoss', inputs: { x: randn([4, 5], 37), t: int64([4], [0, 4, 2, 1]) } },
]

describe('reference kernels against onnxruntime-node CPU', () => {
  CASES.forEach((c, k) => {
    it(`${c.op} #${k}`, () => compareWithOrt(c))
  })
})
