/** Shape functions of ops that move or regroup elements: Reshape, Transpose, Concat, Slice, … */
import type { Dim } from '../../graph/types.ts'
import { inputForm, normAxis } from '../attrs.ts'
import { dimArith, dimProduct, isStaticShape, showShape, symbolDim } from '../dims.ts'
import { type ShapeContext, type ShapeFn, UnknownRank } from './context.ts'
import { broadcastShapes } from './elementwise.ts'

/** A symbol for a dim that inference cannot name (a data-dependent size). */
export const unknownDim = (ctx: ShapeContext, index: number): Dim => symbolDim(`${ctx.node.name}:${index}`)

/**
 * The numbers of a rank-0/1 integer input known before run time. When it is only known at run time
 * (computed from data), the node's output shapes become unknown rather than failing inference.
 */
export function constInts(ctx: ShapeContext, index: number): number[] {
  const d = ctx.dims(index)
  if (d === undefined || !isStaticShape(d)) throw new UnknownRank()
  return d
}

/** Axes given as attribute (old opsets) or as input (newer): undefined when absent. */
export function axesOf(ctx: ShapeContext, inputIndex: number, name = 'axes'): number[] | undefined {
  if (inputForm(ctx.node, name, ctx.opset)) {
    return ctx.has(inputIndex) ? constInts(ctx, inputIndex) : undefined
  }
  return ctx.attrs.ints(name)
}

/** in / out dims, cancelling equal factors so symbolic sizes survive ([b,s,768] → [-1,768] gives b*s). */
function remainingDim(input: Dim[], known: Dim[]): Dim | undefined {
  const syms = input.filter((d) => typeof d === 'string') as string[]
  let num = dimProduct(input.filter((d) => typeof d === 'number')) as number
  for (const d of known) {
    if (typeof d === 'number') {
      if (d === 0 || num % d !== 0) return undefined
      num /= d
    } else {
      const at = syms.indexOf(d)
      if (at < 0) return undefined
      syms.splice(at, 1)
    }
  }
  return dimProduct([num, ...syms])
}

const reshape: ShapeFn = (ctx) => {
  const input = ctx.shape(0)
  const target = ctx.dims(1)
  if (target === undefined) {
    const len = ctx.shape(1)[0]
    if (typeof len !== 'number') return [{ dtype: ctx.dtype(0) }]
    return [{ dtype: ctx.dtype(0), shape: Array.from({ length: len }, (_, i) => unknownDim(ctx, i)) }]
  }
  const allowZero = ctx.attrs.int('allowzero') === 1
  const out = target.map((d, i) => (d === 0 && !allowZero ? input[i] : d))
  if (out.some((d) => d === undefined))
    ctx.fail(`shape ${showShape(target)} copies a dim beyond rank ${input.length}`)
  const free = out.indexOf(-1)
  if (out.lastIndexOf(-1) !== free) ctx.fail(`shape ${showShape(target)} has more than one -1`)
  if (free >= 0) {
    out[free] =
      remainingDim(
        input,
        out.filter((_, i) => i !== free),
      ) ?? unknownDim(ctx, free)
  } else if (isStaticShape(input) && isStaticShape(out) && dimProduct(input) !== dimProduct(out)) {
    ctx.fail(`cannot reshape ${showShape(input)} to ${showShape(out)}`)
  }
  return [{ dtype: ctx.dtype(0), shape: out }]
}

const transpose: ShapeFn = (ctx) => {
  const s = ctx.shape(0)
  const perm = ctx.attrs.ints('perm') ?? s.map((_, i) => s.length - 1 - i)
  if (perm.length !== s.length || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    ctx.fail(`perm [${perm}] is not a permutation of rank ${s.length}`)
  }
  return [{ dtype: ctx.dtype(0), shape: perm.map((p) => s[p]) }]
}

const flatten: ShapeFn = (ctx) => {
  const s = ctx.shape(0)
  const a = ctx.attrs.int('axis')
  const axis = a < 0 ? a + s.length : a
  if (axis < 0 || axis > s.length) ctx.fail(`axis ${a} is out of range for rank ${s.length}`)
  return [{ dtype: ctx.dtype(0), shape: [dimProduct(s.slice(0, axis)), dimProduct(s.slice(axis))] }]
}

const squeeze: ShapeFn = (ctx) => {
  const s = ctx.shape(0)
  const given = axesOf(ctx, 1)
  const axes = given?.map((a) => normAxis(ctx.node, a, s.length)) ?? s.flatMap((d, i) => (d === 1 ? [i] : []))
  for (const a of axes)
    if (s[a] !== 1 && typeof s[a] === 'number') ctx.fail(`cannot squeeze dim ${a} of ${showShape(s)}`)
  return [{ dtype: ctx.dtype(0), shape: s.filter((_, i) => !axes.includes(i)) }]
}

const unsqueeze: ShapeFn = (ctx) => {
  const s = ctx.shape(0)
  const given = axesOf(ctx, 1) ?? ctx.fail('axes are required')
  const rank = s.length + given.length
  const axes = given.map((a) => normAxis(ctx.node, a, rank))
  if (new Set(axes).size !== axes.length) ctx.fail(`axes [${given}] repeat an axis`)
  const out: Dim[] = []
  let next = 0
  for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : s[next++])
  return [{ dtype: ctx.dtype(0), shape: out }]
}

const concat: ShapeFn = (ctx) => {
  const first = ctx.shape(0)
  const axis = normAxis(ctx.node, ctx.attrs.int('axis'), first.length)
  const out = [...first]
  for (let i = 1; i < ctx.inputCount; i++) {
    const s = ctx.shape(i)
    if (ctx.dtype(i) !== ctx.dtype(0))
      ctx.fail(`inputs must share a dtype, found ${ctx.dtype(0)} and ${ctx.dtype(i)}`)
    const clash =
      s.length !== first.length ||
      s.some((d, j) => j !== axis && d !== out[j] && typeof d === 'number' && typeof out[j] === 'number')
    if (clash) ctx.fail(`cannot concatenate ${showShape(first)} and ${showShape(s)} on axis ${axis}`)
    out[axis] = dimArith('+', out[axis], s[axis])
  }
  return [{ dtype: ctx.dtype(0), shape: out }]
}

/** Sizes of the parts of a Split: explicit, or equal (the last one smaller when it does not divide). */
export function splitSizes(ctx: ShapeContext, dim: Dim, outputs: number): Dim[] {
  const given = axesOf(ctx, 1, 'split')
  if (given !== undefined) {
    if (given.length !== outputs) ctx.fail(`split has ${given.length} parts for ${outputs} outputs`)
    if (typeof dim === 'number' && given.reduce((a, b) => a + b, 0) !== dim) {
      ctx.fail(`split [${given}] does not sum to the dim ${dim}`)
    }
    return given
  }
  const n = ctx.attrs.optInt('num_outputs') ?? outputs
  if (typeof dim !== 'number') return Array.from({ length: n }, () => dimArith('/', dim, n))
  const part = Math.ceil(dim / n)
  return Array.from({ length: n }, (_, i) => Math.max(0, Math.min(part, dim - part * i)))
}

const split: ShapeFn = (ctx) => {
  const s = ctx.shape(0)
  const axis = normAxis(ctx.node, ctx.attrs.int('axis'), s.length)
  return splitSizes(ctx, s[axis], ctx.node.outputs.length).map((d) => ({
    dtype: ctx.dtype(0),
    shape: s.map((e, i) => (i === axis ? d : e)),
  }))
}

const expand: ShapeFn = (ctx) => {
  const target = ctx.dims(1)
  if (target === undefined) return [{ dtype: ctx.dtype(0) }]
  return [{ dtype: ctx.dtype(0), shape: broadcastShapes(ctx.node, [ctx.shape(0), target]) }]
}

const tile: ShapeFn = (ctx) => {
  const s = ctx.shape(0)
  const reps = constInts(ctx, 1)
  if (reps.length !== s.length) ctx.fail(`repeats [${reps}] do not match rank ${s.length}`)
  return [{ dtype: ctx.dtype(0), shape: s.map((d, i) => dimArith('*', d, reps[i])) }]
}

export const MOVEMENT_SHAPES: Record<string, ShapeFn> = {
  Reshape: reshape,
  Transpose: transpose,
  Flatten: flatten,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Concat: concat,
  Split: split,
  Expand: expand,
  Tile: tile,
  Trilu: (ctx) => [{ dtype: ctx.dtype(0), shape: ctx.shape(0) }],
}
