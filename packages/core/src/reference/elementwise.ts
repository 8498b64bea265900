/** Elementwise kernels: unary math and activations, broadcasting binary ops, comparisons, Where, Cast. */
import { broadcastShapes } from '../ops/shape/elementwise.ts'
import { castTarget } from '../ops/shape/generators.ts'
import { type DType, numel, type Tensor } from '../tensor.ts'
import type { Kernel, KernelContext } from './kernel.ts'
import { erf, roundHalfEven, sigmoid, softplus } from './math.ts'
import { broadcastIndex, fromF64, scalar, toF64 } from './values.ts'

type Unary = (ctx: KernelContext) => (x: number) => number

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI)

const UNARY: Record<string, Unary> = {
  Neg: () => (x) => -x,
  Abs: () => Math.abs,
  Sign: () => Math.sign,
  Sqrt: () => Math.sqrt,
  Reciprocal: () => (x) => 1 / x,
  Exp: () => Math.exp,
  Log: () => Math.log,
  Sin: () => Math.sin,
  Cos: () => Math.cos,
  Tanh: () => Math.tanh,
  Sigmoid: () => sigmoid,
  Erf: () => erf,
  Floor: () => Math.floor,
  Ceil: () => Math.ceil,
  Round: () => roundHalfEven,
  Relu: () => (x) => Math.max(x, 0),
  Softplus: () => softplus,
  Softsign: () => (x) => x / (1 + Math.abs(x)),
  Tan: () => Math.tan,
  Atan: () => Math.atan,
  Asin: () => Math.asin,
  Acos: () => Math.acos,
  Sinh: () => Math.sinh,
  Cosh: () => Math.cosh,
  Mish: () => (x) => x * Math.tanh(softplus(x)),
  Celu: (ctx) => {
    const a = ctx.attrs.float('alpha')
    return (x) => Math.max(0, x) + Math.min(0, a * (Math.exp(x / a) - 1))
  },
  ThresholdedRelu: (ctx) => {
    const a = ctx.attrs.float('alpha')
    return (x) => (x > a ? x : 0)
  },
  HardSwish: () => (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)),
  LeakyRelu: (ctx) => {
    const a = ctx.attrs.float('alpha')
    return (x) => (x >= 0 ? x : a * x)
  },
  Elu: (ctx) => {
    const a = ctx.attrs.float('alpha')
    return (x) => (x > 0 ? x : a * (Math.exp(x) - 1))
  },
  Selu: (ctx) => {
    const a = ctx.attrs.float('alpha')
    const g = ctx.attrs.float('gamma')
    return (x) => (x > 0 ? g * x : g * a * (Math.exp(x) - 1))
  },
  HardSigmoid: (ctx) => {
    const a = ctx.attrs.float('alpha')
    const b = ctx.attrs.float('beta')
    return (x) => Math.max(0, Math.min(1, a * x + b))
  },
  Gelu: (ctx) =>
    ctx.attrs.string('approximate') === 'tanh'
      ? (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))
      : (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  Clip: (ctx) => {
    const fromInput = ctx.opset >= 11
    const lo = fromInput ? (ctx.inputs[1] ? scalar(ctx.inputs[1]) : -Infinity) : ctx.attrs.float('min')
    const hi = fromInput ? (ctx.inputs[2] ? scalar(ctx.inputs[2]) : Infinity) : ctx.attrs.float('max')
    return (x) => (Number.isNaN(x) ? x : Math.min(hi, Math.max(lo, x)))
  },
  Not: () => (x) => (x ? 0 : 1),
}

const TO_BOOL: Record<string, Unary> = {
  IsNaN: () => (x) => (Number.isNaN(x) ? 1 : 0),
  IsInf: (ctx) => {
    const neg = ctx.attrs.int('detect_negative') === 1
    const pos = ctx.attrs.int('detect_positive') === 1
    return (x) => ((pos && x === Infinity) || (neg && x === -Infinity) ? 1 : 0)
  },
}

const unaryKernel =
  (f: Unary, dtype?: DType): Kernel =>
  (ctx) => {
    const x = ctx.input(0)
    const fn = f(ctx)
    return [fromF64(dtype ?? x.dtype, x.shape, toF64(x).map(fn))]
  }

type Binary = (a: number, b: number) => number

/** Integer division and modulo follow C (truncation) and ONNX Mod (sign of the divisor unless fmod). */
const isInt = (d: DType) => d === 'int64' || d === 'int32' || d === 'uint8'

function binaryOf(ctx: KernelContext, op: string): Binary {
  const int = isInt(ctx.input(0).dtype)
  switch (op) {
    case 'Add':
      return (a, b) => a + b
    case 'Sub':
      return (a, b) => a - b
    case 'Mul':
      return (a, b) => a * b
    case 'Div':
      return int ? (a, b) => Math.trunc(a / b) : (a, b) => a / b
    case 'Pow':
      return (a, b) => a ** b
    case 'Mod':
      if (ctx.attrs.int('fmod') === 1) return (a, b) => a % b
      return (a, b) => {
        const r = a % b
        return r !== 0 && r < 0 !== b < 0 ? r + b : r
      }
    case 'PRelu':
      return (a, b) => (a < 0 ? a * b : a)
    case 'Min':
      return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.min(a, b))
    case 'Max':
      return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b))
    case 'Sum':
    case 'Mean':
      return (a, b) => a + b
    case 'Equal':
      return (a, b) => (a === b ? 1 : 0)
    case 'Less':
      return (a, b) => (a < b ? 1 : 0)
    case 'LessOrEqual':
      return (a, b) => (a <= b ? 1 : 0)
    case 'Greater':
      return (a, b) => (a > b ? 1 : 0)
    case 'GreaterOrEqual':
      return (a, b) => (a >= b ? 1 : 0)
    case 'And':
      return (a, b) => (a && b ? 1 : 0)
    case 'Or':
      return (a, b) => (a || b ? 1 : 0)
    default:
      return (a, b) => (!a !== !b ? 1 : 0)
  }
}

interface Operand {
  shape: readonly number[]
  values: Float64Array
}

/** The broadcast shape of the operands and, per operand, its element index for each output element. */
function broadcastPlan(ctx: KernelContext, xs: readonly Operand[]) {
  const shape = broadcastShapes(
    ctx.node,
    xs.map((x) => [...x.shape]),
  ) as number[]
  const n = numel(shape)
  // an operand already of the output's size needs no index map
  const index = xs.map((x) => (numel(x.shape) === n ? undefined : broadcastIndex(x.shape, shape)))
  return { shape, n, index }
}

/** f(a, b) over the broadcast of two operands. */
function broadcast2(ctx: KernelContext, a: Operand, b: Operand, f: Binary): Operand {
  const { shape, n, index } = broadcastPlan(ctx, [a, b])
  const [ia, ib] = index
  const av = a.values
  const bv = b.values
  const out = new Float64Array(n)
  if (!ia && !ib) for (let k = 0; k < n; k++) out[k] = f(av[k], bv[k])
  else for (let k = 0; k < n; k++) out[k] = f(av[ia ? ia[k] : k], bv[ib ? ib[k] : k])
  return { shape, values: out }
}

const BOOL_OUT = new Set(['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Xor'])

/** Binary ops, and variadic ones (Min, Max, Sum, Mean) folded pairwise left to right. */
const binaryKernel =
  (op: string): Kernel =>
  (ctx) => {
    const xs = ctx.inputs.filter((t): t is Tensor => t !== undefined)
    const f = binaryOf(ctx, op)
    let acc: Operand = { shape: xs[0].shape, values: toF64(xs[0]) }
    for (const x of xs.slice(1)) acc = broadcast2(ctx, acc, { shape: x.shape, values: toF64(x) }, f)
    if (op === 'Mean') for (let k = 0; k < acc.values.length; k++) acc.values[k] /= xs.length
    return [fromF64(BOOL_OUT.has(op) ? 'bool' : xs[0].dtype, acc.shape, acc.values)]
  }

const where: Kernel = (ctx) => {
  const xs = [0, 1, 2].map((i) => ctx.input(i))
  const [c, x, y] = xs.map((t) => ({ shape: t.shape, values: toF64(t) }))
  const { shape, n, index } = broadcastPlan(ctx, [c, x, y])
  const [ic, ix, iy] = index
  const out = new Float64Array(n)
  for (let k = 0; k < n; k++) {
    out[k] = c.values[ic ? ic[k] : k] ? x.values[ix ? ix[k] : k] : y.values[iy ? iy[k] : k]
  }
  return [fromF64(xs[1].dtype, shape, out)]
}

const castTo = (x: Tensor, dtype: DType): Tensor =>
  x.dtype === dtype ? x : fromF64(dtype, x.shape, toF64(x))

export const ELEMENTWISE_KERNELS: Record<string, Kernel> = {
  Where: where,
  Identity: (ctx) => [ctx.input(0)],
  Cast: (ctx) => [castTo(ctx.input(0), castTarget(ctx.node, ctx.attrs))],
  CastLike: (ctx) => [castTo(ctx.input(0), ctx.input(1).dtype)],
}
for (const [op, f] of Object.entries(UNARY)) ELEMENTWISE_KERNELS[op] = unaryKernel(f)
for (const [op, f] of Object.entries(TO_BOOL)) ELEMENTWISE_KERNELS[op] = unaryKernel(f, 'bool')
for (const op of [
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Mod',
  'PRelu',
  'Min',
  'Max',
  'Sum',
  'Mean',
  ...BOOL_OUT,
]) {
  ELEMENTWISE_KERNELS[op] = binaryKernel(op)
}
