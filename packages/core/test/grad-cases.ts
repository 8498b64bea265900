/**
 * One small graph per gradient rule (and per interesting attribute combination), shared by the
 * finite-difference checks and the onnxruntime validity checks.
 */
import { type Attribute, attr } from '../src/graph.ts'
import { type DType, int64, type Tensor } from '../src/tensor.ts'
import { node, type OpGraphSpec, randomTensor } from './gradcheck.ts'

export type Case = (p: (shape: number[], lo?: number, hi?: number) => Tensor, dtype: DType) => OpGraphSpec

const unary =
  (op: string, attributes: Record<string, Attribute> = {}, lo = 0.1, hi = 1): Case =>
  (p) => ({
    params: { x: p([2, 3], lo, hi) },
    nodes: [node(op, ['x'], ['y'], attributes)],
    output: 'y',
  })
const binary =
  (op: string, a: number[], b: number[], lo = 0.1): Case =>
  (p) => ({
    params: { a: p(a, lo), b: p(b, lo) },
    nodes: [node(op, ['a', 'b'], ['y'])],
    output: 'y',
  })
const positive = (x: Tensor): Tensor => ({ ...x, data: (x.data as Float64Array).map(Math.abs) as never })

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
  Sqrt: (p) => ({
    params: { x: positive(p([2, 3], 0.5, 2)) },
    nodes: [node('Sqrt', ['x'], ['y'])],
    output: 'y',
  }),
  Log: (p) => ({
    params: { x: positive(p([2, 3], 0.5, 2)) },
    nodes: [node('Log', ['x'], ['y'])],
    output: 'y',
  }),
  Reciprocal: unary('Reciprocal', {}, 0.5, 2),
  'Add (broadcast)': binary('Add', [2, 3, 4], [3, 1]),
  'Sub (broadcast)': binary('Sub', [3, 1], [2, 3, 4]),
  'Mul (broadcast)': binary('Mul', [2, 1, 4], [3, 1]),
  'Div (broadcast)': binary('Div', [2, 3], [3], 0.5),
  Pow: (p) => ({
    params: { a: positive(p([2, 3], 0.5, 2)), b: p([3]) },
    nodes: [node('Pow', ['a', 'b'], ['y'])],
    output: 'y',
  }),
  'Pow (constant exponent)': (p, dtype) => ({
    params: { a: p([2, 3]) },
    constants: { two: randomTensor(dtype, [], () => 0.5, 2, 2) },
    nodes: [node('Pow', ['a', 'two'], ['y'])],
    output: 'y',
  }),
  Sum: (p) => ({
    params: { a: p([2, 3]), b: p([3]), c: p([1, 3]) },
    nodes: [node('Sum', ['a', 'b', 'c'], ['y'])],
    output: 'y',
  }),
  Clip: (p, dtype) => ({
    params: { x: p([3, 4], 0.05, 2) },
    constants: {
      lo: randomTensor(dtype, [], () => 0, 0.5, 0.5),
      hi: randomTensor(dtype, [], () => 1, 1.2, 1.2),
    },
    nodes: [node('Clip', ['x', 'lo', 'hi'], ['y'])],
    output: 'y',
  }),
  Softmax: (p) => ({
    params: { x: p([2, 3, 4]) },
    nodes: [node('Softmax', ['x'], ['y'], { axis: attr.int(1) })],
    output: 'y',
  }),
  LogSoftmax: (p) => ({ params: { x: p([2, 4]) }, nodes: [node('LogSoftmax', ['x'], ['y'])], output: 'y' }),
  'MatMul (batched, broadcast)': binary('MatMul', [2, 1, 3, 4], [3, 4, 2]),
  'MatMul (vector × matrix)': binary('MatMul', [4], [2, 4, 3]),
  'MatMul (matrix × vector)': binary('MatMul', [3, 4], [4]),
  'MatMul (vector · vector)': binary('MatMul', [4], [4]),
  'MatMul (linear layer)': binary('MatMul', [2, 3, 4], [4, 5]),
  'MatMul (2-D)': binary('MatMul', [3, 4], [4, 2]),
  Gemm: (p) => ({
    params: { a: p([3, 2]), b: p([4, 3]), c: p([4]) },
    nodes: [
      node('Gemm', ['a', 'b', 'c'], ['y'], {
        transA: attr.int(1),
        transB: attr.int(1),
        alpha: attr.float(0.7),
        beta: attr.float(1.3),
      }),
    ],
    output: 'y',
  }),
  'Gemm (plain)': (p) => ({
    params: { a: p([2, 3]), b: p([3, 4]), c: p([2, 1]) },
    nodes: [node('Gemm', ['a', 'b', 'c'], ['y'])],
    output: 'y',
  }),
  LayerNormalization: (p) => ({
    params: { x: p([2, 3, 4]), scale: p([4]), bias: p([4]) },
    nodes: [node('LayerNormalization', ['x', 'scale', 'bias'], ['y'], { epsilon: attr.float(1e-5) })],
    output: 'y',
  }),
  'LayerNormalization (axis 1)': (p) => ({
    params: { x: p([2, 3, 2]), scale: p([3, 2]) },
    nodes: [node('LayerNormalization', ['x', 'scale'], ['y'], { axis: attr.int(1) })],
    output: 'y',
  }),
  'BatchNormalization (training)': (p) => ({
    params: { x: p([3, 2, 2, 2]), scale: p([2]), bias: p([2]) },
    constants: { mean: p([2]), var: positive(p([2], 0.5, 1)) },
    nodes: [
      node('BatchNormalization', ['x', 'scale', 'bias', 'mean', 'var'], ['y', 'rm', 'rv'], {
        training_mode: attr.int(1),
      }),
    ],
    output: 'y',
  }),
  'BatchNormalization (inference)': (p) => ({
    params: { x: p([2, 2, 2, 3]), scale: p([2]), bias: p([2]) },
    constants: { mean: p([2]), var: positive(p([2], 0.5, 1)) },
    nodes: [node('BatchNormalization', ['x', 'scale', 'bias', 'mean', 'var'], ['y'])],
    output: 'y',
  }),
  Conv: (p) => ({
    params: { x: p([2, 2, 5, 5]), w: p([3, 2, 3, 3]), b: p([3]) },
    nodes: [node('Conv', ['x', 'w', 'b'], ['y'], { pads: attr.ints([1, 1, 1, 1]) })],
    output: 'y',
  }),
  'Conv (stride 2, asymmetric pads, dilation, groups)': (p) => ({
    params: { x: p([1, 4, 6, 5]), w: p([2, 2, 2, 3]) },
    nodes: [
      node('Conv', ['x', 'w'], ['y'], {
        pads: attr.ints([1, 0, 0, 2]),
        strides: attr.ints([2, 2]),
        dilations: attr.ints([2, 1]),
        group: attr.int(2),
      }),
    ],
    output: 'y',
  }),
  'Conv (1-D, stride 3, SAME_UPPER)': (p) => ({
    params: { x: p([2, 1, 7]), w: p([2, 1, 3]) },
    nodes: [
      node('Conv', ['x', 'w'], ['y'], { auto_pad: attr.string('SAME_UPPER'), strides: attr.ints([3]) }),
    ],
    output: 'y',
  }),
  'Conv (3-D, depthwise, stride 2)': (p) => ({
    params: { x: p([1, 2, 4, 3, 3]), w: p([2, 1, 2, 2, 2]), b: p([2]) },
    nodes: [
      node('Conv', ['x', 'w', 'b'], ['y'], {
        group: attr.int(2),
        strides: attr.ints([2, 1, 2]),
        pads: attr.ints([0, 1, 1, 1, 0, 0]),
      }),
    ],
    output: 'y',
  }),
  MaxPool: (p) => ({
    params: { x: p([1, 2, 5, 5]) },
    nodes: [
      node('MaxPool', ['x'], ['y'], {
        kernel_shape: attr.ints([3, 3]),
        strides: attr.ints([2, 2]),
        pads: attr.ints([1, 1, 1, 1]),
      }),
    ],
    output: 'y',
  }),
  'MaxPool (opset 13: mask and transposed conv)': (p) => ({
    params: { x: p([2, 2, 5, 5]) },
    nodes: [
      node('MaxPool', ['x'], ['y'], {
        kernel_shape: attr.ints([3, 3]),
        strides: attr.ints([2, 2]),
        pads: attr.ints([1, 1, 1, 1]),
      }),
    ],
    output: 'y',
    opset: 13,
  }),
  'MaxPool (opset 13, dilated, ceil_mode)': (p) => ({
    params: { x: p([1, 2, 6, 5]) },
    nodes: [
      node('MaxPool', ['x'], ['y'], {
        kernel_shape: attr.ints([2, 2]),
        strides: attr.ints([2, 1]),
        dilations: attr.ints([2, 1]),
        ceil_mode: attr.int(1),
      }),
    ],
    output: 'y',
    opset: 13,
  }),
  AveragePool: (p) => ({
    params: { x: p([1, 2, 5, 4]) },
    nodes: [
      node('AveragePool', ['x'], ['y'], {
        kernel_shape: attr.ints([3, 2]),
        strides: attr.ints([2, 1]),
        pads: attr.ints([1, 0, 1, 1]),
      }),
    ],
    output: 'y',
  }),
  'AveragePool (count_include_pad)': (p) => ({
    params: { x: p([1, 1, 4, 4]) },
    nodes: [
      node('AveragePool', ['x'], ['y'], {
        kernel_shape: attr.ints([2, 2]),
        strides: attr.ints([2, 2]),
        pads: attr.ints([1, 1, 1, 1]),
        count_include_pad: attr.int(1),
      }),
    ],
    output: 'y',
  }),
  GlobalAveragePool: (p) => ({
    params: { x: p([2, 3, 2, 2]) },
    nodes: [node('GlobalAveragePool', ['x'], ['y'])],
    output: 'y',
  }),
  ReduceSum: (p) => ({
    params: { x: p([2, 3, 4]) },
    constants: { axes: int64([2], [0, -1]) },
    nodes: [node('ReduceSum', ['x', 'axes'], ['y'], { keepdims: attr.int(0) })],
    output: 'y',
  }),
  ReduceMean: (p) => ({
    params: { x: p([2, 3, 4]) },
    constants: { axes: int64([1], [1]) },
    nodes: [node('ReduceMean', ['x', 'axes'], ['y'])],
    output: 'y',
  }),
  'ReduceMean (opset 13 attribute)': (p) => ({
    params: { x: p([2, 3]) },
    nodes: [node('ReduceMean', ['x'], ['y'], { axes: attr.ints([1]), keepdims: attr.int(0) })],
    output: 'y',
    opset: 13,
  }),
  Reshape: (p) => ({
    params: { x: p([2, 3, 2]) },
    constants: { shape: int64([2], [3, -1]) },
    nodes: [node('Reshape', ['x', 'shape'], ['y'])],
    output: 'y',
  }),
  Flatten: (p) => ({
    params: { x: p([2, 3, 2]) },
    nodes: [node('Flatten', ['x'], ['y'], { axis: attr.int(2) })],
    output: 'y',
  }),
  Transpose: (p) => ({
    params: { x: p([2, 3, 4]) },
    nodes: [node('Transpose', ['x'], ['y'], { perm: attr.ints([1, 2, 0]) })],
    output: 'y',
  }),
  Squeeze: (p) => ({
    params: { x: p([2, 1, 3]) },
    constants: { axes: int64([1], [1]) },
    nodes: [node('Squeeze', ['x', 'axes'], ['y'])],
    output: 'y',
  }),
  Unsqueeze: (p) => ({
    params: { x: p([2, 3]) },
    constants: { axes: int64([2], [0, 3]) },
    nodes: [node('Unsqueeze', ['x', 'axes'], ['y'])],
    output: 'y',
  }),
  Concat: (p) => ({
    params: { a: p([2, 1, 3]), b: p([2, 2, 3]) },
    nodes: [node('Concat', ['a', 'b'], ['y'], { axis: attr.int(-2) })],
    output: 'y',
  }),
  Split: (p) => ({
    params: { x: p([2, 5]) },
    constants: { split: int64([2], [2, 3]) },
    nodes: [
      node('Split', ['x', 'split'], ['s0', 's1'], { axis: attr.int(1) }),
      node('Mul', ['s0', 's0'], ['y']),
    ],
    output: 'y',
  }),
  'Split (both outputs used)': (p) => ({
    params: { x: p([4, 2]) },
    nodes: [
      node('Split', ['x'], ['s0', 's1'], { num_outputs: attr.int(2) }),
      node('Mul', ['s0', 's1'], ['y']),
    ],
    output: 'y',
  }),
  Slice: (p) => ({
    params: { x: p([4, 5]) },
    constants: {
      starts: int64([2], [1, -1]),
      ends: int64([2], [3, -9]),
      axes: int64([2], [0, 1]),
      steps: int64([2], [1, -2]),
    },
    nodes: [node('Slice', ['x', 'starts', 'ends', 'axes', 'steps'], ['y'])],
    output: 'y',
  }),
  'Gather (embedding, repeated indices)': (p) => ({
    params: { table: p([5, 3]) },
    constants: { ids: int64([2, 3], [1, 4, 1, 0, 1, -1]) },
    nodes: [node('Gather', ['table', 'ids'], ['y'])],
    output: 'y',
  }),
  'Gather (axis 1)': (p) => ({
    params: { x: p([2, 4, 3]) },
    constants: { ids: int64([3], [3, 0, 3]) },
    nodes: [node('Gather', ['x', 'ids'], ['y'], { axis: attr.int(1) })],
    output: 'y',
  }),
  'Gather (opset 13 one-hot)': (p) => ({
    params: { table: p([4, 2]) },
    constants: { ids: int64([3], [2, 2, -1]) },
    nodes: [node('Gather', ['table', 'ids'], ['y'])],
    output: 'y',
    opset: 13,
  }),
  Where: (p) => ({
    params: { a: p([2, 3]), b: p([3]) },
    constants: { zero: int64([], [0]) },
    nodes: [node('Greater', ['a', 'b'], ['c']), node('Where', ['c', 'a', 'b'], ['y'])],
    output: 'y',
  }),
  Expand: (p) => ({
    params: { x: p([3, 1]) },
    constants: { shape: int64([3], [2, 3, 4]) },
    nodes: [node('Expand', ['x', 'shape'], ['y'])],
    output: 'y',
  }),
  Trilu: (p) => ({
    params: { x: p([2, 3, 3]) },
    constants: { k: int64([], [1]) },
    nodes: [node('Trilu', ['x', 'k'], ['y'], { upper: attr.int(0) })],
    output: 'y',
  }),
  'Cast (float ↔ float)': (p, dtype) => ({
    params: { x: p([2, 3]) },
    nodes: [
      // through float64 and back: exact for both dtypes (float64 → float32 would round the FD probe)
      node('Cast', ['x'], ['wide'], { to: attr.int(11) }),
      node('Cast', ['wide'], ['y'], { to: attr.int(dtype === 'float64' ? 11 : 1) }),
    ],
    output: 'y',
  }),
  'Dropout (training, mask reused)': (p, dtype) => ({
    params: { x: p([3, 4]) },
    constants: {
      ratio: randomTensor(dtype, [], () => 1, 0.25, 0.25),
      training: { dtype: 'bool', shape: [], data: Uint8Array.of(1) },
    },
    nodes: [node('Dropout', ['x', 'ratio', 'training'], ['y', 'mask'], { seed: attr.int(3) })],
    output: 'y',
  }),
  SoftmaxCrossEntropyLoss: (p) => ({
    params: { scores: p([3, 4]) },
    constants: { labels: int64([3], [2, 0, 3]) },
    nodes: [node('SoftmaxCrossEntropyLoss', ['scores', 'labels'], ['y'])],
    output: 'y',
  }),
  'SoftmaxCrossEntropyLoss (ignore_index, weights, [N,C,d])': (p) => ({
    params: { scores: p([2, 3, 2]) },
    constants: { labels: int64([2, 2], [2, -100, 0, 1]), weights: positive(p([3], 0.5, 1.5)) },
    nodes: [
      node('SoftmaxCrossEntropyLoss', ['scores', 'labels', 'weights'], ['y'], {
        ignore_index: attr.int(-100),
      }),
    ],
    output: 'y',
  }),
  'SoftmaxCrossEntropyLoss (none, log_prob used)': (p) => ({
    params: { scores: p([3, 4]) },
    constants: { labels: int64([3], [1, 1, 3]) },
    nodes: [
      node('SoftmaxCrossEntropyLoss', ['scores', 'labels'], ['l', 'logp'], {
        reduction: attr.string('none'),
        ignore_index: attr.int(3),
      }),
      node('ReduceSum', ['logp'], ['lp'], { keepdims: attr.int(0) }),
      node('Add', ['l', 'lp'], ['y']),
    ],
    output: 'y',
  }),
  'NegativeLogLikelihoodLoss (sum)': (p) => ({
    params: { x: p([3, 4]) },
    constants: { labels: int64([3], [1, 0, 3]) },
    nodes: [node('NegativeLogLikelihoodLoss', ['x', 'labels'], ['y'], { reduction: attr.string('sum') })],
    output: 'y',
  }),
  Max: (p) => ({
    params: { a: p([2, 3]), b: p([3]), c: p([2, 1]) },
    nodes: [node('Max', ['a', 'b', 'c'], ['y'])],
    output: 'y',
  }),
  'Min (ties split evenly)': (p) => ({
    params: { a: p([2, 3]) },
    nodes: [node('Identity', ['a'], ['a2']), node('Min', ['a', 'a2'], ['y'])],
    output: 'y',
  }),
  Mean: (p) => ({
    params: { a: p([2, 3]), b: p([3]) },
    nodes: [node('Mean', ['a', 'b'], ['y'])],
    output: 'y',
  }),
  ReduceMax: (p) => ({
    // a wide range keeps the runner-up further than the float32 probe (1e-2) from the maximum
    params: { x: p([2, 3, 4], 0.1, 10) },
    constants: { axes: int64([2], [0, 2]) },
    nodes: [node('ReduceMax', ['x', 'axes'], ['y'], { keepdims: attr.int(0) })],
    output: 'y',
  }),
  ReduceMin: (p) => ({
    params: { x: p([3, 4]) },
    constants: { axes: int64([1], [1]) },
    nodes: [node('ReduceMin', ['x', 'axes'], ['y'])],
    output: 'y',
  }),
  GlobalMaxPool: (p) => ({
    params: { x: p([2, 2, 3, 2]) },
    nodes: [node('GlobalMaxPool', ['x'], ['y'])],
    output: 'y',
  }),
  ReduceSumSquare: (p) => ({
    params: { x: p([2, 3]) },
    constants: { axes: int64([1], [1]) },
    nodes: [node('ReduceSumSquare', ['x', 'axes'], ['y'], { keepdims: attr.int(0) })],
    output: 'y',
  }),
  ReduceL2: (p) => ({
    params: { x: p([2, 3]) },
    constants: { axes: int64([1], [0]) },
    nodes: [node('ReduceL2', ['x', 'axes'], ['y'])],
    output: 'y',
  }),
  ReduceLogSumExp: (p) => ({
    params: { x: p([2, 3]) },
    constants: { axes: int64([1], [1]) },
    nodes: [node('ReduceLogSumExp', ['x', 'axes'], ['y'], { keepdims: attr.int(0) })],
    output: 'y',
  }),
  'CumSum (exclusive, reverse)': (p) => ({
    params: { x: p([2, 4]) },
    constants: { axis: int64([], [1]) },
    nodes: [node('CumSum', ['x', 'axis'], ['y'], { exclusive: attr.int(1), reverse: attr.int(1) })],
    output: 'y',
  }),
  Elu: unary('Elu', { alpha: attr.float(0.7) }),
  Selu: unary('Selu'),
  HardSigmoid: unary('HardSigmoid', { alpha: attr.float(0.4) }, 0.1, 3),
  HardSwish: unary('HardSwish', {}, 0.1, 5),
  Softsign: unary('Softsign'),
  Sin: unary('Sin'),
  Cos: unary('Cos'),
  Gelu: (p) => ({
    params: { x: p([2, 3], 0.1, 2) },
    nodes: [node('Gelu', ['x'], ['y'])],
    output: 'y',
    opset: 20,
  }),
  'Gelu (tanh)': (p) => ({
    params: { x: p([2, 3], 0.1, 2) },
    nodes: [node('Gelu', ['x'], ['y'], { approximate: attr.string('tanh') })],
    output: 'y',
    opset: 20,
  }),
  PRelu: (p) => ({
    params: { x: p([2, 3, 2]), slope: p([3, 1]) },
    nodes: [node('PRelu', ['x', 'slope'], ['y'])],
    output: 'y',
  }),
  CastLike: (p, dtype) => ({
    params: { x: p([2, 3]) },
    // through float64 and back, exact for both dtypes
    constants: { like: randomTensor('float64', [1], () => 0.5) },
    nodes: [
      node('CastLike', ['x', 'like'], ['wide']),
      node('Cast', ['wide'], ['y'], { to: attr.int(dtype === 'float64' ? 11 : 1) }),
    ],
    output: 'y',
  }),
  GatherElements: (p) => ({
    params: { x: p([3, 3]) },
    constants: { idx: int64([2, 3], [0, 2, 2, 1, 0, 2]) },
    nodes: [node('GatherElements', ['x', 'idx'], ['y'])],
    output: 'y',
  }),
  'Pad (constant, with a crop)': (p) => ({
    params: { x: p([3, 4]) },
    constants: { pads: int64([4], [1, -1, 0, 2]) },
    nodes: [node('Pad', ['x', 'pads'], ['y'])],
    output: 'y',
  }),
  Tile: (p) => ({
    params: { x: p([2, 3]) },
    constants: { repeats: int64([2], [2, 3]) },
    nodes: [node('Tile', ['x', 'repeats'], ['y'])],
    output: 'y',
  }),
  'Dropout (inference)': (p) => ({
    params: { x: p([2, 3]) },
    nodes: [node('Dropout', ['x'], ['y'])],
    output: 'y',
  }),
}
