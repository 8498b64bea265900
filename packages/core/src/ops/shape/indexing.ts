/** Shape functions of Slice, Pad and the gather/scatter family. */
import type { Dim } from '../../graph/types.ts'
import { normAxis } from '../attrs.ts'
import { dimArith, showShape } from '../dims.ts'
import { resolveSlice } from '../geometry.ts'
import type { ShapeContext, ShapeFn } from './context.ts'
import { constInts, unknownDim } from './movement.ts'

/** INT64_MAX as exporters write "to the end"; anything this large means the whole axis. */
const TO_END = 2 ** 31

/**
 * The size of a slice of a dim. Bounds may be symbolic (x[:, :t] with t = x.shape[1] in a dynamic
 * export): a symbolic bound is a size, hence non-negative, and assumed within the axis — the form
 * PyTorch emits for `mask[:t]`.
 */
function sliceDim(ctx: ShapeContext, d: Dim, start: Dim, end: Dim, step: number, i: number): Dim {
  if (typeof d === 'number' && typeof start === 'number' && typeof end === 'number') {
    return resolveSlice(d, start, end, step).count
  }
  const fromStart = typeof start === 'string' || start >= 0
  if (step === 1 && fromStart && typeof end === 'string') return dimArith('-', end, start)
  if (step === 1 && fromStart && typeof end === 'number' && end >= TO_END) return dimArith('-', d, start)
  if (
    typeof start === 'number' &&
    typeof end === 'number' &&
    step > 0 &&
    start >= 0 &&
    end >= start &&
    end < TO_END
  ) {
    return Math.ceil((end - start) / step)
  }
  return unknownDim(ctx, i)
}

/** Slice bounds: numbers, or sizes computed from symbolic dims. */
function bounds(ctx: ShapeContext, i: number): Dim[] {
  const d = ctx.dims(i)
  if (d === undefined) return constInts(ctx, i)
  return d
}

const slice: ShapeFn = (ctx) => {
  const s = ctx.shape(0)
  const starts = bounds(ctx, 1)
  const ends = bounds(ctx, 2)
  const axes = ctx.has(3) ? constInts(ctx, 3) : starts.map((_, i) => i)
  const steps = ctx.has(4) ? constInts(ctx, 4) : starts.map(() => 1)
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
    ctx.fail('starts, ends, axes and steps must have the same length')
  }
  const out = [...s]
  axes.forEach((a, j) => {
    const axis = normAxis(ctx.node, a, s.length)
    if (steps[j] === 0) ctx.fail('steps must not be 0')
    out[axis] = sliceDim(ctx, s[axis], starts[j], ends[j], steps[j], axis)
  })
  return [{ dtype: ctx.dtype(0), shape: out }]
}

const pad: ShapeFn = (ctx) => {
  const s = ctx.shape(0)
  const pads = constInts(ctx, 1)
  const axes = ctx.has(3) ? constInts(ctx, 3).map((a) => normAxis(ctx.node, a, s.length)) : s.map((_, i) => i)
  if (pads.length !== 2 * axes.length) ctx.fail(`pads [${pads}] must have 2 × ${axes.length} entries`)
  const out = [...s]
  axes.forEach((a, j) => {
    out[a] = dimArith('+', out[a], pads[j] + pads[j + axes.length])
  })
  return [{ dtype: ctx.dtype(0), shape: out }]
}

const gather: ShapeFn = (ctx) => {
  const s = ctx.shape(0)
  const axis = normAxis(ctx.node, ctx.attrs.int('axis'), s.length)
  const idx = ctx.shape(1)
  return [{ dtype: ctx.dtype(0), shape: [...s.slice(0, axis), ...idx, ...s.slice(axis + 1)] }]
}

const gatherElements: ShapeFn = (ctx) => {
  const s = ctx.shape(0)
  const idx = ctx.shape(1)
  normAxis(ctx.node, ctx.attrs.int('axis'), s.length)
  if (idx.length !== s.length)
    ctx.fail(`indices ${showShape(idx)} must have the rank of data ${showShape(s)}`)
  return [{ dtype: ctx.dtype(0), shape: idx }]
}

const scatterElements: ShapeFn = (ctx) => {
  const s = ctx.shape(0)
  normAxis(ctx.node, ctx.attrs.int('axis'), s.length)
  if (ctx.shape(1).length !== s.length || ctx.shape(2).length !== s.length) {
    ctx.fail(`indices and updates must have the rank of data ${showShape(s)}`)
  }
  if (ctx.dtype(2) !== ctx.dtype(0)) ctx.fail(`updates must be ${ctx.dtype(0)}, found ${ctx.dtype(2)}`)
  return [{ dtype: ctx.dtype(0), shape: s }]
}

const gatherND: ShapeFn = (ctx) => {
  const s = ctx.shape(0)
  const idx = ctx.shape(1)
  const b = ctx.attrs.int('batch_dims')
  const k = idx[idx.length - 1]
  if (typeof k !== 'number' || idx.length < 1 || k < 1 || b + k > s.length) {
    return ctx.fail(`indices ${showShape(idx)} cannot address data ${showShape(s)} with batch_dims ${b}`)
  }
  return [{ dtype: ctx.dtype(0), shape: [...idx.slice(0, -1), ...s.slice(b + k)] }]
}

const scatterND: ShapeFn = (ctx) => {
  const s = ctx.shape(0)
  const idx = ctx.shape(1)
  const k = idx[idx.length - 1]
  if (typeof k !== 'number' || k > s.length)
    return ctx.fail(`indices ${showShape(idx)} cannot address data ${showShape(s)}`)
  if (ctx.shape(2).length !== idx.length - 1 + s.length - k)
    ctx.fail(`updates ${showShape(ctx.shape(2))} do not fit`)
  return [{ dtype: ctx.dtype(0), shape: s }]
}

const oneHot: ShapeFn = (ctx) => {
  const s = ctx.shape(0)
  const axis = normAxis(ctx.node, ctx.attrs.int('axis'), s.length + 1)
  const depth = ctx.value(1)
  const d: Dim = depth ? Number(depth.data[0]) : unknownDim(ctx, axis)
  return [{ dtype: ctx.dtype(2), shape: [...s.slice(0, axis), d, ...s.slice(axis)] }]
}

export const INDEXING_SHAPES: Record<string, ShapeFn> = {
  Slice: slice,
  Pad: pad,
  Gather: gather,
  GatherElements: gatherElements,
  ScatterElements: scatterElements,
  GatherND: gatherND,
  ScatterND: scatterND,
  OneHot: oneHot,
  // the number of non-zeros is only known at run time
  NonZero: (ctx) => [{ dtype: 'int64', shape: [ctx.shape(0).length, unknownDim(ctx, 1)] }],
}
