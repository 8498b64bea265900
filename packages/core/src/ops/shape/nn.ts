/** Shape functions of normalisation, convolution, pooling, dropout and the losses. */
import type { Dim } from '../../graph/types.ts'
import type { DType } from '../../tensor.ts'
import { normAxis } from '../attrs.ts'
import { isStaticShape, showShape } from '../dims.ts'
import { type TransposedSpec, transposedGeometry, type WindowSpec, windowGeometry } from '../geometry.ts'
import type { OutputType, ShapeContext, ShapeFn } from './context.ts'
import { unknownDim } from './movement.ts'

/** Statistics (Mean, InvStdDev) of half-precision inputs are kept in float32, as stash_type asks. */
const statDtype = (d: DType): DType => (d === 'float16' ? 'float32' : d)

const layerNorm: ShapeFn = (ctx) => {
  const s = ctx.shape(0)
  const axis = normAxis(ctx.node, ctx.attrs.int('axis'), s.length)
  const stat = { dtype: statDtype(ctx.dtype(0)), shape: s.map((d, i) => (i < axis ? d : 1)) }
  return [{ dtype: ctx.dtype(0), shape: s }, stat, stat]
}

const batchNorm: ShapeFn = (ctx) => {
  const s = ctx.shape(0)
  if (s.length < 2) ctx.fail(`input must be [N, C, …], found ${showShape(s)}`)
  const c = { dtype: ctx.dtype(3), shape: [s[1]] }
  return [{ dtype: ctx.dtype(0), shape: s }, c, c, c, c]
}

/** The window attributes of a Conv or pool node over `spatial` dims, with ONNX defaults filled in. */
export function windowSpec(ctx: ShapeContext, kernel: number[]): WindowSpec {
  const n = kernel.length
  const ones = kernel.map(() => 1)
  const spec = {
    kernel,
    strides: ctx.attrs.ints('strides') ?? ones,
    dilations: ctx.attrs.ints('dilations') ?? ones,
    pads: ctx.attrs.ints('pads') ?? [...ones, ...ones].map(() => 0),
    autoPad: ctx.attrs.string('auto_pad'),
    ceilMode: ctx.attrs.has('ceil_mode') && ctx.attrs.int('ceil_mode') === 1,
  }
  if (spec.strides.length !== n || spec.dilations.length !== n || spec.pads.length !== 2 * n) {
    ctx.fail(`strides, dilations and pads must match the ${n} spatial dims of the kernel`)
  }
  if (!['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'].includes(spec.autoPad)) {
    ctx.fail(`auto_pad '${spec.autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER`)
  }
  return spec
}

function spatialOut(ctx: ShapeContext, spatial: Dim[], spec: WindowSpec): Dim[] {
  if (!isStaticShape(spatial)) return spatial.map((_, i) => unknownDim(ctx, i + 2))
  const out = windowGeometry(spatial, spec).out
  if (out.some((d) => d <= 0))
    ctx.fail(`window ${showShape(spec.kernel)} does not fit input ${showShape(spatial)}`)
  return out
}

/** X, W, group and the static kernel of a Conv or ConvTranspose; `weights` is W's layout for errors. */
function convOperands(
  ctx: ShapeContext,
  weights: string,
): { x: Dim[]; w: Dim[]; group: number; kernel: number[] } {
  const x = ctx.shape(0)
  const w = ctx.shape(1)
  if (x.length < 3 || w.length !== x.length)
    ctx.fail(`X ${showShape(x)} and W ${showShape(w)} must be [N,C,…] and ${weights}`)
  const kernel = ctx.attrs.ints('kernel_shape') ?? w.slice(2)
  if (!isStaticShape(kernel)) return ctx.fail(`kernel size must be static, found ${showShape(kernel)}`)
  return { x, w, group: ctx.attrs.int('group'), kernel }
}

const conv: ShapeFn = (ctx) => {
  const { x, w, group, kernel } = convOperands(ctx, '[M,C/group,…]')
  const c = x[1]
  if (typeof c === 'number' && typeof w[1] === 'number' && c !== w[1] * group) {
    ctx.fail(`X has ${c} channels but W expects ${w[1]} × group ${group}`)
  }
  const spatial = spatialOut(ctx, x.slice(2), windowSpec(ctx, kernel))
  return [{ dtype: ctx.dtype(0), shape: [x[0], w[0], ...spatial] }]
}

/** ConvTranspose's geometry from its attributes, defaults filled in. */
export function transposedSpec(ctx: ShapeContext, kernel: number[]): TransposedSpec {
  const zeros = kernel.map(() => 0)
  const { strides, dilations, pads, autoPad } = windowSpec(ctx, kernel)
  const outputShape = ctx.attrs.ints('output_shape')
  return {
    kernel,
    strides,
    dilations,
    pads,
    autoPad,
    outputPadding: ctx.attrs.ints('output_padding') ?? zeros,
    // output_shape may list N and C too; only the trailing spatial sizes matter
    outputShape: outputShape?.slice(outputShape.length - kernel.length),
  }
}

const convTranspose: ShapeFn = (ctx) => {
  const { x, w, group, kernel } = convOperands(ctx, '[C,M/group,…]')
  if (typeof x[1] === 'number' && typeof w[0] === 'number' && x[1] !== w[0])
    ctx.fail(`X has ${x[1]} channels, W expects ${w[0]}`)
  const m = typeof w[1] === 'number' ? w[1] * group : `${w[1]}*${group}`
  const spatial = x.slice(2)
  const out = isStaticShape(spatial)
    ? transposedGeometry(spatial, transposedSpec(ctx, kernel)).out
    : spatial.map((_, i) => unknownDim(ctx, i + 2))
  if (out.some((d) => typeof d === 'number' && d <= 0))
    ctx.fail(`output size ${showShape(out)} is not positive`)
  return [{ dtype: ctx.dtype(0), shape: [x[0], m, ...out] }]
}

const pool: ShapeFn = (ctx) => {
  const x = ctx.shape(0)
  const kernel = ctx.attrs.ints('kernel_shape') ?? ctx.fail('kernel_shape is required')
  if (x.length !== kernel.length + 2) ctx.fail(`input ${showShape(x)} does not match kernel [${kernel}]`)
  const shape = [x[0], x[1], ...spatialOut(ctx, x.slice(2), windowSpec(ctx, kernel))]
  return [
    { dtype: ctx.dtype(0), shape },
    { dtype: 'int64', shape },
  ]
}

const globalPool: ShapeFn = (ctx) => {
  const x = ctx.shape(0)
  return [{ dtype: ctx.dtype(0), shape: x.map((d, i) => (i < 2 ? d : 1)) }]
}

const dropout: ShapeFn = (ctx) => [
  { dtype: ctx.dtype(0), shape: ctx.shape(0) },
  { dtype: 'bool', shape: ctx.shape(0) },
]

/** SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss: scores [N,C,d…], labels [N,d…]. */
const loss: ShapeFn = (ctx) => {
  const x = ctx.shape(0)
  const t = ctx.shape(1)
  if (x.length < 2 || t.length !== x.length - 1)
    ctx.fail(`scores ${showShape(x)} and labels ${showShape(t)} must be [N,C,d…] and [N,d…]`)
  const reduction = ctx.attrs.string('reduction')
  if (!['none', 'sum', 'mean'].includes(reduction))
    ctx.fail(`reduction '${reduction}' is not none, sum or mean`)
  const out: OutputType = { dtype: ctx.dtype(0), shape: reduction === 'none' ? [x[0], ...x.slice(2)] : [] }
  return [out, { dtype: ctx.dtype(0), shape: x }]
}

export const NN_SHAPES: Record<string, ShapeFn> = {
  LayerNormalization: layerNorm,
  BatchNormalization: batchNorm,
  InstanceNormalization: (ctx) => [{ dtype: ctx.dtype(0), shape: ctx.shape(0) }],
  GroupNormalization: (ctx) => {
    const s = ctx.shape(0)
    const groups = ctx.attrs.int('num_groups')
    if (typeof s[1] === 'number' && (groups <= 0 || s[1] % groups !== 0))
      ctx.fail(`${s[1]} channels do not split into ${groups} groups`)
    return [{ dtype: ctx.dtype(0), shape: s }]
  },
  Conv: conv,
  ConvTranspose: convTranspose,
  MaxPool: pool,
  AveragePool: pool,
  GlobalAveragePool: globalPool,
  GlobalMaxPool: globalPool,
  Dropout: dropout,
  SoftmaxCrossEntropyLoss: loss,
  NegativeLogLikelihoodLoss: loss,
}
