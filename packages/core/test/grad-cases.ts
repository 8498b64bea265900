/**
 * One small graph per gradient rule (and per interesting attribute combination), shared by the
 * finite-difference checks and the onnxruntime validity checks. Most are one node (`one`); graphs
 * of several nodes, where a rule needs a neighbour to be exercised, are written out, the neighbour
 * marked `helper`.
 */
import { attr } from '../src/graph/types.ts'
import { int64 } from '../src/tensor.ts'
import {
  binary,
  type Case,
  castBack,
  helper,
  ints,
  one,
  pool,
  positive,
  scalar,
  unary,
} from './grad-case-kit.ts'
import { INDEXING_CASES } from './grad-cases-indexing.ts'
import { MAXPOOL_CASES } from './grad-cases-maxpool.ts'
import { RECURRENT_CASES } from './grad-cases-recurrent.ts'
import { SPATIAL_CASES } from './grad-cases-spatial.ts'
import { floatTensor } from './gradcheck.ts'
import { node } from './ops-helpers.ts'

export { type Case, type Draw, HELPER_SCOPE } from './grad-case-kit.ts'

/** Every case: this file's, then each topic file's (one spread line each). */
export const CASES: Record<string, Case> = {
  Identity: unary('Identity'),
  Neg: unary('Neg'),
  Exp: unary('Exp'),
  Tanh: unary('Tanh'),
  Sigmoid: unary('Sigmoid'),
  Erf: unary('Erf'),
  Relu: unary('Relu'),
  LeakyRelu: unary('LeakyRelu', { alpha: attr.float(0.2) }),
  Abs: unary('Abs'),
  Softplus: unary('Softplus'),
  Sqrt: one('Sqrt', { params: { x: positive([2, 3], 0.5, 2) } }),
  Log: one('Log', { params: { x: positive([2, 3], 0.5, 2) } }),
  Reciprocal: unary('Reciprocal', {}, 0.5, 2),
  'Add (broadcast)': binary('Add', [2, 3, 4], [3, 1]),
  'Sub (broadcast)': binary('Sub', [3, 1], [2, 3, 4]),
  'Mul (broadcast)': binary('Mul', [2, 1, 4], [3, 1]),
  'Div (broadcast)': binary('Div', [2, 3], [3], 0.5),
  Pow: one('Pow', { params: { a: positive([2, 3], 0.5, 2), b: [3] } }),
  'Pow (constant exponent)': one('Pow', { params: { a: [2, 3] }, constants: { two: scalar(2) } }),
  Sum: one('Sum', { params: { a: [2, 3], b: [3], c: [1, 3] } }),
  Clip: one('Clip', {
    params: { x: (p) => p([3, 4], 0.05, 2) },
    constants: { lo: scalar(-0.5), hi: scalar(1.2) },
  }),
  Softmax: one('Softmax', { params: { x: [2, 3, 4] }, attrs: { axis: attr.int(1) } }),
  LogSoftmax: one('LogSoftmax', { params: { x: [2, 4] } }),
  'MatMul (batched, broadcast)': binary('MatMul', [2, 1, 3, 4], [3, 4, 2]),
  'MatMul (vector × matrix)': binary('MatMul', [4], [2, 4, 3]),
  'MatMul (matrix × vector)': binary('MatMul', [3, 4], [4]),
  'MatMul (vector · vector)': binary('MatMul', [4], [4]),
  'MatMul (linear layer)': binary('MatMul', [2, 3, 4], [4, 5]),
  'MatMul (2-D)': binary('MatMul', [3, 4], [4, 2]),
  Gemm: one('Gemm', {
    params: { a: [3, 2], b: [4, 3], c: [4] },
    attrs: { transA: attr.int(1), transB: attr.int(1), alpha: attr.float(0.7), beta: attr.float(1.3) },
  }),
  'Gemm (plain)': one('Gemm', { params: { a: [2, 3], b: [3, 4], c: [2, 1] } }),
  LayerNormalization: one('LayerNormalization', {
    params: { x: [2, 3, 4], scale: [4], bias: [4] },
    attrs: { epsilon: attr.float(1e-5) },
  }),
  'LayerNormalization (axis 1)': one('LayerNormalization', {
    params: { x: [2, 3, 2], scale: [3, 2] },
    attrs: { axis: attr.int(1) },
  }),
  'BatchNormalization (training)': one('BatchNormalization', {
    params: { x: [3, 2, 2, 2], scale: [2], bias: [2] },
    constants: { mean: (p) => p([2]), var: positive([2], 0.5, 1) },
    attrs: { training_mode: attr.int(1) },
    outputs: ['y', 'rm', 'rv'],
  }),
  'BatchNormalization (training, opset 15: ReduceMean takes its axes as an attribute)': one(
    'BatchNormalization',
    {
      params: { x: [3, 2, 2, 2], scale: [2], bias: [2] },
      constants: { mean: (p) => p([2]), var: positive([2], 0.5, 1) },
      attrs: { training_mode: attr.int(1) },
      outputs: ['y', 'rm', 'rv'],
      opset: 15,
    },
  ),
  'BatchNormalization (inference)': one('BatchNormalization', {
    params: { x: [2, 2, 2, 3], scale: [2], bias: [2] },
    constants: { mean: (p) => p([2]), var: positive([2], 0.5, 1) },
  }),
  Conv: one('Conv', {
    params: { x: [2, 2, 5, 5], w: [3, 2, 3, 3], b: [3] },
    attrs: { pads: attr.ints([1, 1, 1, 1]) },
  }),
  'Conv (stride 2, asymmetric pads, dilation, groups)': one('Conv', {
    params: { x: [1, 4, 6, 5], w: [2, 2, 2, 3] },
    attrs: {
      pads: attr.ints([1, 0, 0, 2]),
      strides: attr.ints([2, 2]),
      dilations: attr.ints([2, 1]),
      group: attr.int(2),
    },
  }),
  'Conv (1-D, stride 3, SAME_UPPER)': one('Conv', {
    params: { x: [2, 1, 7], w: [2, 1, 3] },
    attrs: { auto_pad: attr.string('SAME_UPPER'), strides: attr.ints([3]) },
  }),
  'Conv (3-D, depthwise, stride 2)': one('Conv', {
    params: { x: [1, 2, 4, 3, 3], w: [2, 1, 2, 2, 2], b: [2] },
    attrs: { group: attr.int(2), strides: attr.ints([2, 1, 2]), pads: attr.ints([0, 1, 1, 1, 0, 0]) },
  }),
  AveragePool: one('AveragePool', { params: { x: [1, 2, 5, 4] }, attrs: pool([3, 2], [2, 1], [1, 0, 1, 1]) }),
  'AveragePool (count_include_pad)': one('AveragePool', {
    params: { x: [1, 1, 4, 4] },
    attrs: { ...pool([2, 2], [2, 2], [1, 1, 1, 1]), count_include_pad: attr.int(1) },
  }),
  GlobalAveragePool: one('GlobalAveragePool', { params: { x: [2, 3, 2, 2] } }),
  ReduceSum: one('ReduceSum', {
    params: { x: [2, 3, 4] },
    constants: { axes: ints([0, -1]) },
    attrs: { keepdims: attr.int(0) },
  }),
  ReduceMean: one('ReduceMean', { params: { x: [2, 3, 4] }, constants: { axes: ints([1]) } }),
  'ReduceMean (opset 13 attribute)': one('ReduceMean', {
    params: { x: [2, 3] },
    attrs: { axes: attr.ints([1]), keepdims: attr.int(0) },
    opset: 13,
  }),
  Reshape: one('Reshape', { params: { x: [2, 3, 2] }, constants: { shape: ints([3, -1]) } }),
  Flatten: one('Flatten', { params: { x: [2, 3, 2] }, attrs: { axis: attr.int(2) } }),
  Transpose: one('Transpose', { params: { x: [2, 3, 4] }, attrs: { perm: attr.ints([1, 2, 0]) } }),
  Squeeze: one('Squeeze', { params: { x: [2, 1, 3] }, constants: { axes: ints([1]) } }),
  Unsqueeze: one('Unsqueeze', { params: { x: [2, 3] }, constants: { axes: ints([0, 3]) } }),
  Concat: one('Concat', { params: { a: [2, 1, 3], b: [2, 2, 3] }, attrs: { axis: attr.int(-2) } }),
  Split: (p) => ({
    params: { x: p([2, 5]) },
    constants: { split: ints([2, 3]) },
    nodes: [
      node('Split', ['x', 'split'], ['s0', 's1'], { axis: attr.int(1) }),
      helper(node('Mul', ['s0', 's0'], ['y'])),
    ],
    output: 'y',
  }),
  'Split (both outputs used)': (p) => ({
    params: { x: p([4, 2]) },
    nodes: [
      node('Split', ['x'], ['s0', 's1'], { num_outputs: attr.int(2) }),
      helper(node('Mul', ['s0', 's1'], ['y'])),
    ],
    output: 'y',
  }),
  Slice: one('Slice', {
    params: { x: [4, 5] },
    constants: { starts: ints([1, -1]), ends: ints([3, -9]), axes: ints([0, 1]), steps: ints([1, -2]) },
  }),
  'Gather (embedding, repeated indices)': one('Gather', {
    params: { table: [5, 3] },
    constants: { ids: int64([2, 3], [1, 4, 1, 0, 1, -1]) },
  }),
  'Gather (axis 1)': one('Gather', {
    params: { x: [2, 4, 3] },
    constants: { ids: ints([3, 0, 3]) },
    attrs: { axis: attr.int(1) },
  }),
  'Gather (opset 13 one-hot)': one('Gather', {
    params: { table: [4, 2] },
    constants: { ids: ints([2, 2, -1]) },
    opset: 13,
  }),
  Where: (p) => ({
    params: { a: p([2, 3]), b: p([3]) },
    nodes: [helper(node('Greater', ['a', 'b'], ['c'])), node('Where', ['c', 'a', 'b'], ['y'])],
    output: 'y',
  }),
  Expand: one('Expand', { params: { x: [3, 1] }, constants: { shape: ints([2, 3, 4]) } }),
  Trilu: one('Trilu', {
    params: { x: [2, 3, 3] },
    constants: { k: int64([], [1]) },
    attrs: { upper: attr.int(0) },
  }),
  'Cast (float ↔ float)': (p, dtype) => ({
    params: { x: p([2, 3]) },
    nodes: [node('Cast', ['x'], ['wide'], { to: attr.int(11) }), castBack(dtype)],
    output: 'y',
  }),
  'Dropout (training, mask reused)': one('Dropout', {
    params: { x: [3, 4] },
    constants: { ratio: scalar(0.25), training: { dtype: 'bool', shape: [], data: Uint8Array.of(1) } },
    attrs: { seed: attr.int(3) },
    outputs: ['y', 'mask'],
  }),
  SoftmaxCrossEntropyLoss: one('SoftmaxCrossEntropyLoss', {
    params: { scores: [3, 4] },
    constants: { labels: ints([2, 0, 3]) },
  }),
  'SoftmaxCrossEntropyLoss (ignore_index, weights, [N,C,d])': one('SoftmaxCrossEntropyLoss', {
    params: { scores: [2, 3, 2] },
    constants: { labels: int64([2, 2], [2, -100, 0, 1]), weights: positive([3], 0.5, 1.5) },
    attrs: { ignore_index: attr.int(-100) },
  }),
  'SoftmaxCrossEntropyLoss (none, log_prob used)': (p) => ({
    params: { scores: p([3, 4]) },
    constants: { labels: ints([1, 1, 3]) },
    nodes: [
      node('SoftmaxCrossEntropyLoss', ['scores', 'labels'], ['l', 'logp'], {
        reduction: attr.string('none'),
        ignore_index: attr.int(3),
      }),
      helper(node('ReduceSum', ['logp'], ['lp'], { keepdims: attr.int(0) })),
      helper(node('Add', ['l', 'lp'], ['y'])),
    ],
    output: 'y',
  }),
  'NegativeLogLikelihoodLoss (sum)': one('NegativeLogLikelihoodLoss', {
    params: { x: [3, 4] },
    constants: { labels: ints([1, 0, 3]) },
    attrs: { reduction: attr.string('sum') },
  }),
  Max: one('Max', { params: { a: [2, 3], b: [3], c: [2, 1] } }),
  'Min (ties split evenly)': (p) => ({
    params: { a: p([2, 3]) },
    nodes: [helper(node('Identity', ['a'], ['a2'])), node('Min', ['a', 'a2'], ['y'])],
    output: 'y',
  }),
  Mean: one('Mean', { params: { a: [2, 3], b: [3] } }),
  ReduceMax: one('ReduceMax', {
    // a wide range keeps the runner-up further than the float32 probe (1e-2) from the maximum
    params: { x: (p) => p([2, 3, 4], 0.1, 10) },
    constants: { axes: ints([0, 2]) },
    attrs: { keepdims: attr.int(0) },
  }),
  ReduceMin: one('ReduceMin', { params: { x: [3, 4] }, constants: { axes: ints([1]) } }),
  GlobalMaxPool: one('GlobalMaxPool', { params: { x: [2, 2, 3, 2] } }),
  ReduceSumSquare: one('ReduceSumSquare', {
    params: { x: [2, 3] },
    constants: { axes: ints([1]) },
    attrs: { keepdims: attr.int(0) },
  }),
  ReduceL2: one('ReduceL2', { params: { x: [2, 3] }, constants: { axes: ints([0]) } }),
  ReduceLogSumExp: one('ReduceLogSumExp', {
    params: { x: [2, 3] },
    constants: { axes: ints([1]) },
    attrs: { keepdims: attr.int(0) },
  }),
  'CumSum (exclusive, reverse)': one('CumSum', {
    params: { x: [2, 4] },
    constants: { axis: int64([], [1]) },
    attrs: { exclusive: attr.int(1), reverse: attr.int(1) },
  }),
  Elu: unary('Elu', { alpha: attr.float(0.7) }),
  Selu: unary('Selu'),
  HardSigmoid: unary('HardSigmoid', { alpha: attr.float(0.4) }, 0.1, 3),
  HardSwish: unary('HardSwish', {}, 0.1, 5),
  Softsign: unary('Softsign'),
  Sin: unary('Sin'),
  Cos: unary('Cos'),
  Gelu: one('Gelu', { params: { x: (p) => p([2, 3], 0.1, 2) }, opset: 20 }),
  'Gelu (tanh)': one('Gelu', {
    params: { x: (p) => p([2, 3], 0.1, 2) },
    attrs: { approximate: attr.string('tanh') },
    opset: 20,
  }),
  PRelu: one('PRelu', { params: { x: [2, 3, 2], slope: [3, 1] } }),
  CastLike: (p, dtype) => ({
    params: { x: p([2, 3]) },
    constants: { like: floatTensor('float64', [1], [0.55]) },
    nodes: [node('CastLike', ['x', 'like'], ['wide']), helper(castBack(dtype))],
    output: 'y',
  }),
  GatherElements: one('GatherElements', {
    params: { x: [3, 3] },
    constants: { idx: int64([2, 3], [0, 2, 2, 1, 0, 2]) },
  }),
  'Pad (constant, with a crop)': one('Pad', {
    params: { x: [3, 4] },
    constants: { pads: ints([1, -1, 0, 2]) },
  }),
  Tile: one('Tile', { params: { x: [2, 3] }, constants: { repeats: ints([2, 3]) } }),
  'Dropout (inference)': unary('Dropout'),
  ...INDEXING_CASES,
  ...SPATIAL_CASES,
  ...MAXPOOL_CASES,
  ...RECURRENT_CASES,
}
