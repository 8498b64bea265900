/** Shape functions of reductions (axes as attribute or input by opset), ArgMax/ArgMin and CumSum. */
import { normAxis } from '../attrs.ts'
import type { ShapeContext, ShapeFn } from './context.ts'
import { axesOf, unknownDim } from './movement.ts'

/** The reduced axes, normalised; empty means "none" when noop_with_empty_axes is set. */
export function reducedAxes(ctx: ShapeContext, rank: number): number[] {
  const given = axesOf(ctx, 1) ?? []
  if (given.length === 0) {
    return ctx.attrs.int('noop_with_empty_axes') ? [] : Array.from({ length: rank }, (_, i) => i)
  }
  return given.map((a) => normAxis(ctx.node, a, rank))
}

const reduce: ShapeFn = (ctx) => {
  const s = ctx.shape(0)
  const axes = reducedAxes(ctx, s.length)
  const keep = ctx.attrs.int('keepdims') === 1
  const shape = s.flatMap((d, i) => (axes.includes(i) ? (keep ? [1] : []) : [d]))
  return [{ dtype: ctx.dtype(0), shape }]
}

const argReduce: ShapeFn = (ctx) => {
  const s = ctx.shape(0)
  const axis = normAxis(ctx.node, ctx.attrs.int('axis'), s.length)
  const keep = ctx.attrs.int('keepdims') === 1
  return [{ dtype: 'int64', shape: s.flatMap((d, i) => (i === axis ? (keep ? [1] : []) : [d])) }]
}

const topK: ShapeFn = (ctx) => {
  const s = ctx.shape(0)
  const axis = normAxis(ctx.node, ctx.attrs.int('axis'), s.length)
  const k = ctx.dims(1)?.[0] ?? unknownDim(ctx, axis)
  if (typeof k === 'number' && typeof s[axis] === 'number' && k > s[axis])
    ctx.fail(`k = ${k} exceeds the axis size ${s[axis]}`)
  const shape = s.map((d, i) => (i === axis ? k : d))
  return [
    { dtype: ctx.dtype(0), shape },
    { dtype: 'int64', shape },
  ]
}

export const REDUCE_SHAPES: Record<string, ShapeFn> = {
  ReduceSum: reduce,
  ReduceMean: reduce,
  ReduceMax: reduce,
  ReduceMin: reduce,
  ReduceProd: reduce,
  ReduceSumSquare: reduce,
  ReduceL1: reduce,
  ReduceL2: reduce,
  ReduceLogSumExp: reduce,
  ArgMax: argReduce,
  ArgMin: argReduce,
  TopK: topK,
  CumSum: (ctx) => [{ dtype: ctx.dtype(0), shape: ctx.shape(0) }],
}
