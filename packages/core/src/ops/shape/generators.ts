/** Shape functions of Constant, ConstantOfShape, Range, Shape, Size and Cast. */
import type { Node } from '../../graph/types.ts'
import { float32, int64, type Tensor } from '../../tensor.ts'
import type { Attrs } from '../attrs.ts'
import { dimProduct, isStaticShape } from '../dims.ts'
import { AttributeError } from '../errors.ts'
import { dtypeOfOnnxCode } from '../onnx-dtype.ts'
import type { ShapeFn } from './context.ts'
import { unknownDim } from './movement.ts'

/** The tensor a Constant node holds, from whichever value_* attribute it sets. */
export function constantValue(node: Node, attrs: Attrs): Tensor {
  const t = attrs.tensor('value')
  if (t) return t
  if (attrs.has('value_float')) return float32([], [attrs.float('value_float')])
  if (attrs.has('value_floats')) {
    const v = attrs.floats('value_floats') ?? []
    return float32([v.length], v)
  }
  if (attrs.has('value_int')) return int64([], [attrs.int('value_int')])
  if (attrs.has('value_ints')) {
    const v = attrs.ints('value_ints') ?? []
    return int64([v.length], v)
  }
  throw new AttributeError(node, 'a Constant needs one of value, value_float(s), value_int(s)')
}

/** Cast's target dtype, checked. */
export function castTarget(node: Node, attrs: Attrs) {
  const to = attrs.int('to')
  const d = dtypeOfOnnxCode(to)
  if (d === undefined) throw new AttributeError(node, `cast to ONNX data type ${to} is not supported`)
  return d
}

const constant: ShapeFn = (ctx) => {
  const value = constantValue(ctx.node, ctx.attrs)
  return [{ dtype: value.dtype, shape: [...value.shape], value }]
}

const constantOfShape: ShapeFn = (ctx) => {
  const dtype = ctx.attrs.tensor('value')?.dtype ?? 'float32'
  const dims = ctx.dims(0)
  if (dims) return [{ dtype, shape: dims }]
  const len = ctx.shape(0)[0]
  return [
    {
      dtype,
      shape: typeof len === 'number' ? Array.from({ length: len }, (_, i) => unknownDim(ctx, i)) : undefined,
    },
  ]
}

const range: ShapeFn = (ctx) => {
  const [start, limit, delta] = [0, 1, 2].map((i) => ctx.value(i))
  if (start && limit && delta) {
    const n = Math.max(0, Math.ceil((Number(limit.data[0]) - Number(start.data[0])) / Number(delta.data[0])))
    return [{ dtype: ctx.dtype(0), shape: [n] }]
  }
  const lim = ctx.dims(1)
  const zeroStart = start !== undefined && Number(start.data[0]) === 0
  const unitStep = delta !== undefined && Number(delta.data[0]) === 1
  // range(0, n, 1) over a symbolic n, the usual position-ids pattern
  if (lim && zeroStart && unitStep) return [{ dtype: ctx.dtype(0), shape: [lim[0]] }]
  return [{ dtype: ctx.dtype(0), shape: [unknownDim(ctx, 0)] }]
}

const shape: ShapeFn = (ctx) => {
  const s = ctx.shape(0)
  const clampIndex = (i: number) => Math.min(Math.max(i < 0 ? i + s.length : i, 0), s.length)
  const start = clampIndex(ctx.attrs.int('start'))
  const end = clampIndex(ctx.attrs.optInt('end') ?? s.length)
  const dims = s.slice(start, Math.max(start, end))
  return [
    {
      dtype: 'int64',
      shape: [dims.length],
      dims,
      value: isStaticShape(dims) ? int64([dims.length], dims) : undefined,
    },
  ]
}

const size: ShapeFn = (ctx) => {
  const n = dimProduct(ctx.shape(0))
  return [{ dtype: 'int64', shape: [], dims: [n], value: typeof n === 'number' ? int64([], [n]) : undefined }]
}

export const GENERATOR_SHAPES: Record<string, ShapeFn> = {
  Constant: constant,
  ConstantOfShape: constantOfShape,
  Range: range,
  Shape: shape,
  Size: size,
  Cast: (ctx) => [{ dtype: castTarget(ctx.node, ctx.attrs), shape: ctx.shape(0) }],
  CastLike: (ctx) => [{ dtype: ctx.dtype(1), shape: ctx.shape(0) }],
}
