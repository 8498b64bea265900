/**
 * The op contract: every ONNX operator Atoll supports, with its inputs, outputs and attributes
 * (kind and default). Shape inference, the reference interpreter, autodiff, ONNX import and the
 * backends all read op and attribute names from here, so a typo is caught in one place.
 *
 * Inputs ending in `?` are optional; an input ending in `...` is variadic. Where an attribute became
 * an input in a later opset (axes, split, min/max, ratio), both are listed and `inputSince` says
 * from which opset the input form applies; the graph's `opset` selects the form.
 */
import type { Attribute } from '../graph/types.ts'

export type AttributeKind = Attribute['kind']

/** An attribute's kind and default; no default means "required" when `required`, else "absent". */
export interface AttrSpec {
  kind: AttributeKind
  default?: number | string | number[]
  required?: boolean
}

export interface OpSpec {
  inputs: readonly string[]
  outputs: readonly string[]
  attributes: Readonly<Record<string, AttrSpec>>
  /** attribute name → opset from which it is given as the input of the same name instead */
  inputSince?: Readonly<Record<string, number>>
}

const int = (d?: number): AttrSpec => (d === undefined ? { kind: 'int' } : { kind: 'int', default: d })
const float = (d: number): AttrSpec => ({ kind: 'float', default: d })
const ints = (): AttrSpec => ({ kind: 'ints' })
const str = (d: string): AttrSpec => ({ kind: 'string', default: d })
const required = (kind: AttributeKind): AttrSpec => ({ kind, required: true })

const unary: OpSpec = { inputs: ['X'], outputs: ['Y'], attributes: {} }
const binary: OpSpec = { inputs: ['A', 'B'], outputs: ['C'], attributes: {} }
const variadic: OpSpec = { inputs: ['data_0...'], outputs: ['result'], attributes: {} }
/** ReduceSum takes axes as an input from opset 13, the other reductions from opset 18. */
const reduce = (since: number): OpSpec => ({
  inputs: ['data', 'axes?'],
  outputs: ['reduced'],
  attributes: { axes: ints(), keepdims: int(1), noop_with_empty_axes: int(0) },
  inputSince: { axes: since },
})
const argReduce: OpSpec = {
  inputs: ['data'],
  outputs: ['reduced'],
  attributes: { axis: int(0), keepdims: int(1), select_last_index: int(0) },
}
const convLike = {
  auto_pad: str('NOTSET'),
  dilations: ints(),
  kernel_shape: ints(),
  pads: ints(),
  strides: ints(),
}
/** Attributes LSTM, GRU and RNN share; clip has no default (absent means no clipping). */
const recurrentAttributes = {
  activation_alpha: { kind: 'floats' },
  activation_beta: { kind: 'floats' },
  activations: { kind: 'strings' },
  clip: { kind: 'float' },
  direction: str('forward'),
  hidden_size: int(),
  layout: int(0),
} as const satisfies Record<string, AttrSpec>
const softmaxLike: OpSpec = { inputs: ['input'], outputs: ['output'], attributes: { axis: int(-1) } }

export const OPS = {
  // elementwise arithmetic, with numpy broadcasting
  Add: binary,
  Sub: binary,
  Mul: binary,
  Div: binary,
  Pow: { inputs: ['X', 'Y'], outputs: ['Z'], attributes: {} },
  Mod: { inputs: ['A', 'B'], outputs: ['C'], attributes: { fmod: int(0) } },
  PRelu: { inputs: ['X', 'slope'], outputs: ['Y'], attributes: {} },
  Min: variadic,
  Max: variadic,
  Sum: variadic,
  Mean: variadic,
  // comparisons and logic (bool outputs)
  Equal: binary,
  Less: binary,
  LessOrEqual: binary,
  Greater: binary,
  GreaterOrEqual: binary,
  And: binary,
  Or: binary,
  Xor: binary,
  Not: unary,
  IsNaN: unary,
  IsInf: { inputs: ['X'], outputs: ['Y'], attributes: { detect_negative: int(1), detect_positive: int(1) } },
  Where: { inputs: ['condition', 'X', 'Y'], outputs: ['output'], attributes: {} },
  // unary math and activations
  Neg: unary,
  Abs: unary,
  Sign: unary,
  Sqrt: unary,
  Reciprocal: unary,
  Exp: unary,
  Log: unary,
  Sin: unary,
  Cos: unary,
  Tanh: unary,
  Sigmoid: unary,
  Erf: unary,
  Floor: unary,
  Ceil: unary,
  Round: unary,
  Relu: unary,
  Softplus: unary,
  Softsign: unary,
  Tan: unary,
  Atan: unary,
  Asin: unary,
  Acos: unary,
  Sinh: unary,
  Cosh: unary,
  Mish: unary,
  Celu: { inputs: ['X'], outputs: ['Y'], attributes: { alpha: float(1) } },
  ThresholdedRelu: { inputs: ['X'], outputs: ['Y'], attributes: { alpha: float(1) } },
  HardSwish: unary,
  LeakyRelu: { inputs: ['X'], outputs: ['Y'], attributes: { alpha: float(0.01) } },
  Elu: { inputs: ['X'], outputs: ['Y'], attributes: { alpha: float(1) } },
  Selu: {
    inputs: ['X'],
    outputs: ['Y'],
    attributes: { alpha: float(1.6732631921768188), gamma: float(1.0507010221481323) },
  },
  HardSigmoid: { inputs: ['X'], outputs: ['Y'], attributes: { alpha: float(0.2), beta: float(0.5) } },
  Gelu: { inputs: ['X'], outputs: ['Y'], attributes: { approximate: str('none') } },
  Clip: {
    inputs: ['input', 'min?', 'max?'],
    outputs: ['output'],
    attributes: { min: float(-3.4028234663852886e38), max: float(3.4028234663852886e38) },
    inputSince: { min: 11, max: 11 },
  },
  Identity: unary,
  Cast: { inputs: ['input'], outputs: ['output'], attributes: { to: required('int'), saturate: int(1) } },
  CastLike: { inputs: ['input', 'target_type'], outputs: ['output'], attributes: { saturate: int(1) } },
  // linear algebra
  MatMul: { inputs: ['A', 'B'], outputs: ['Y'], attributes: {} },
  Gemm: {
    inputs: ['A', 'B', 'C?'],
    outputs: ['Y'],
    attributes: { alpha: float(1), beta: float(1), transA: int(0), transB: int(0) },
  },
  Einsum: { inputs: ['Inputs...'], outputs: ['Output'], attributes: { equation: required('string') } },
  // normalisation and softmax
  Softmax: softmaxLike,
  LogSoftmax: softmaxLike,
  LayerNormalization: {
    inputs: ['X', 'Scale', 'B?'],
    outputs: ['Y', 'Mean?', 'InvStdDev?'],
    attributes: { axis: int(-1), epsilon: float(1e-5), stash_type: int(1) },
  },
  BatchNormalization: {
    inputs: ['X', 'scale', 'B', 'input_mean', 'input_var'],
    outputs: ['Y', 'running_mean?', 'running_var?', 'saved_mean?', 'saved_var?'],
    attributes: { epsilon: float(1e-5), momentum: float(0.9), training_mode: int(0) },
  },
  InstanceNormalization: {
    inputs: ['input', 'scale', 'B'],
    outputs: ['output'],
    attributes: { epsilon: float(1e-5) },
  },
  GroupNormalization: {
    inputs: ['X', 'scale', 'bias'],
    outputs: ['Y'],
    attributes: { epsilon: float(1e-5), num_groups: required('int'), stash_type: int(1) },
  },
  // convolution and pooling (NCHW…)
  Conv: { inputs: ['X', 'W', 'B?'], outputs: ['Y'], attributes: { ...convLike, group: int(1) } },
  ConvTranspose: {
    inputs: ['X', 'W', 'B?'],
    outputs: ['Y'],
    attributes: { ...convLike, group: int(1), output_padding: ints(), output_shape: ints() },
  },
  MaxPool: {
    inputs: ['X'],
    outputs: ['Y', 'Indices?'],
    attributes: { ...convLike, kernel_shape: required('ints'), ceil_mode: int(0), storage_order: int(0) },
  },
  AveragePool: {
    inputs: ['X'],
    outputs: ['Y'],
    attributes: { ...convLike, kernel_shape: required('ints'), ceil_mode: int(0), count_include_pad: int(0) },
  },
  GlobalAveragePool: unary,
  GlobalMaxPool: unary,
  // recurrent: [seq, batch, …] (layout 0); ops/recurrent.ts says which attributes Atoll computes
  LSTM: {
    inputs: ['X', 'W', 'R', 'B?', 'sequence_lens?', 'initial_h?', 'initial_c?', 'P?'],
    outputs: ['Y?', 'Y_h?', 'Y_c?'],
    attributes: { ...recurrentAttributes, input_forget: int(0) },
  },
  GRU: {
    inputs: ['X', 'W', 'R', 'B?', 'sequence_lens?', 'initial_h?'],
    outputs: ['Y?', 'Y_h?'],
    attributes: { ...recurrentAttributes, linear_before_reset: int(0) },
  },
  RNN: {
    inputs: ['X', 'W', 'R', 'B?', 'sequence_lens?', 'initial_h?'],
    outputs: ['Y?', 'Y_h?'],
    attributes: recurrentAttributes,
  },
  // reductions
  ReduceSum: reduce(13),
  ReduceMean: reduce(18),
  ReduceMax: reduce(18),
  ReduceMin: reduce(18),
  ReduceProd: reduce(18),
  ReduceSumSquare: reduce(18),
  ReduceL1: reduce(18),
  ReduceL2: reduce(18),
  ReduceLogSumExp: reduce(18),
  ArgMax: argReduce,
  ArgMin: argReduce,
  TopK: {
    inputs: ['X', 'K'],
    outputs: ['Values', 'Indices'],
    attributes: { axis: int(-1), largest: int(1), sorted: int(1) },
  },
  CumSum: { inputs: ['x', 'axis'], outputs: ['y'], attributes: { exclusive: int(0), reverse: int(0) } },
  // shape and movement
  Reshape: { inputs: ['data', 'shape'], outputs: ['reshaped'], attributes: { allowzero: int(0) } },
  Flatten: { inputs: ['input'], outputs: ['output'], attributes: { axis: int(1) } },
  Transpose: { inputs: ['data'], outputs: ['transposed'], attributes: { perm: ints() } },
  Squeeze: {
    inputs: ['data', 'axes?'],
    outputs: ['squeezed'],
    attributes: { axes: ints() },
    inputSince: { axes: 13 },
  },
  Unsqueeze: {
    inputs: ['data', 'axes'],
    outputs: ['expanded'],
    attributes: { axes: ints() },
    inputSince: { axes: 13 },
  },
  Concat: { inputs: ['inputs...'], outputs: ['concat_result'], attributes: { axis: required('int') } },
  Split: {
    inputs: ['input', 'split?'],
    outputs: ['outputs...'],
    attributes: { axis: int(0), split: ints(), num_outputs: int() },
    inputSince: { split: 13 },
  },
  Slice: { inputs: ['data', 'starts', 'ends', 'axes?', 'steps?'], outputs: ['output'], attributes: {} },
  Expand: { inputs: ['input', 'shape'], outputs: ['output'], attributes: {} },
  Tile: { inputs: ['input', 'repeats'], outputs: ['output'], attributes: {} },
  Pad: {
    inputs: ['data', 'pads', 'constant_value?', 'axes?'],
    outputs: ['output'],
    attributes: { mode: str('constant') },
  },
  Resize: {
    inputs: ['X', 'roi?', 'scales?', 'sizes?'],
    outputs: ['Y'],
    attributes: {
      mode: str('nearest'),
      coordinate_transformation_mode: str('half_pixel'),
      nearest_mode: str('round_prefer_floor'),
      cubic_coeff_a: float(-0.75),
      exclude_outside: int(0),
      extrapolation_value: float(0),
      antialias: int(0),
      axes: ints(),
      keep_aspect_ratio_policy: str('stretch'),
    },
  },
  Trilu: { inputs: ['input', 'k?'], outputs: ['output'], attributes: { upper: int(1) } },
  // indexing
  Gather: { inputs: ['data', 'indices'], outputs: ['output'], attributes: { axis: int(0) } },
  GatherElements: { inputs: ['data', 'indices'], outputs: ['output'], attributes: { axis: int(0) } },
  ScatterElements: {
    inputs: ['data', 'indices', 'updates'],
    outputs: ['output'],
    attributes: { axis: int(0), reduction: str('none') },
  },
  GatherND: { inputs: ['data', 'indices'], outputs: ['output'], attributes: { batch_dims: int(0) } },
  ScatterND: {
    inputs: ['data', 'indices', 'updates'],
    outputs: ['output'],
    attributes: { reduction: str('none') },
  },
  NonZero: { inputs: ['X'], outputs: ['Y'], attributes: {} },
  OneHot: { inputs: ['indices', 'depth', 'values'], outputs: ['output'], attributes: { axis: int(-1) } },
  // generators and shape queries
  Constant: {
    inputs: [],
    outputs: ['output'],
    attributes: {
      value: { kind: 'tensor' },
      value_float: { kind: 'float' },
      value_floats: { kind: 'floats' },
      value_int: { kind: 'int' },
      value_ints: ints(),
    },
  },
  ConstantOfShape: { inputs: ['input'], outputs: ['output'], attributes: { value: { kind: 'tensor' } } },
  Range: { inputs: ['start', 'limit', 'delta'], outputs: ['output'], attributes: {} },
  Shape: { inputs: ['data'], outputs: ['shape'], attributes: { start: int(0), end: int() } },
  Size: { inputs: ['data'], outputs: ['size'], attributes: {} },
  Dropout: {
    inputs: ['data', 'ratio?', 'training_mode?'],
    outputs: ['output', 'mask?'],
    attributes: { seed: int(), ratio: float(0.5) },
    inputSince: { ratio: 12 },
  },
  // losses
  SoftmaxCrossEntropyLoss: {
    inputs: ['scores', 'labels', 'weights?'],
    outputs: ['output', 'log_prob?'],
    attributes: { ignore_index: int(), reduction: str('mean') },
  },
  NegativeLogLikelihoodLoss: {
    inputs: ['input', 'target', 'weight?'],
    outputs: ['loss'],
    attributes: { ignore_index: int(), reduction: str('mean') },
  },
} as const satisfies Record<string, OpSpec>

/** The name of a supported op type. */
export type OpType = keyof typeof OPS

/** Every supported op type, in contract order. */
export const OP_TYPES = Object.keys(OPS) as OpType[]

/** Whether `opType` (in the default ONNX domain) is in the contract. */
export function isSupportedOp(opType: string, domain = ''): opType is OpType {
  return (domain === '' || domain === 'ai.onnx') && Object.hasOwn(OPS, opType)
}

/**
 * How many inputs and outputs an op takes: [min, max] each (max Infinity for variadic ones). An
 * input that older opsets give as an attribute (Unsqueeze's axes before 13) counts as optional.
 */
export function arity(opType: OpType): { inputs: [number, number]; outputs: [number, number] } {
  const spec: OpSpec = OPS[opType]
  const optional = (n: string) => n.endsWith('?') || n.endsWith('...') || spec.inputSince?.[n] !== undefined
  const range = (names: readonly string[]): [number, number] => {
    const variadic = names.some((n) => n.endsWith('...'))
    const required = names.filter((n) => !optional(n)).length + (variadic ? 1 : 0)
    return [required, variadic ? Number.POSITIVE_INFINITY : names.length]
  }
  return { inputs: range(spec.inputs), outputs: range(spec.outputs) }
}
