/** Gather, GatherElements, ScatterElements and OneHot; negative indices count from the end. */
import { normAxis } from '../ops/attrs.ts'
import { type Tensor, tensor } from '../tensor.ts'
import type { Kernel, KernelContext } from './kernel.ts'
import { fromF64, ints, mapIndex, stridesOf, takeFlat, toF64 } from './values.ts'

/** An index checked against an axis of size n, negative ones wrapped. */
function checkedIndex(ctx: KernelContext, i: number, n: number): number {
  const j = i < 0 ? i + n : i
  if (!(j >= 0 && j < n)) ctx.fail(`index ${i} is out of range for an axis of size ${n}`)
  return j
}

const gather: Kernel = (ctx) => {
  const x = ctx.input(0)
  const indices = ints(ctx.input(1))
  const idxShape = ctx.input(1).shape
  const axis = normAxis(ctx.node, ctx.attrs.int('axis'), x.shape.length)
  const shape = [...x.shape.slice(0, axis), ...idxShape, ...x.shape.slice(axis + 1)]
  const st = stridesOf(x.shape)
  const ist = stridesOf(idxShape)
  const q = idxShape.length
  const src = mapIndex(shape, (idx) => {
    let flatIdx = 0
    for (let d = 0; d < q; d++) flatIdx += idx[axis + d] * ist[d]
    let s = checkedIndex(ctx, indices[flatIdx], x.shape[axis]) * st[axis]
    for (let d = 0; d < axis; d++) s += idx[d] * st[d]
    for (let d = axis + 1; d < x.shape.length; d++) s += idx[d + q - 1] * st[d]
    return s
  })
  return [takeFlat(x, src, shape)]
}

/** For every element of the index tensor, the flat position in `x` it addresses along `axis`. */
function elementTargets(ctx: KernelContext, x: Tensor, indices: Tensor, axis: number): Int32Array {
  const idx = ints(indices)
  const st = stridesOf(x.shape)
  let k = 0
  return mapIndex(indices.shape, (pos) => {
    let s = 0
    for (let d = 0; d < pos.length; d++) {
      s += (d === axis ? checkedIndex(ctx, idx[k], x.shape[axis]) : pos[d]) * st[d]
    }
    k++
    return s
  })
}

const gatherElements: Kernel = (ctx) => {
  const x = ctx.input(0)
  const indices = ctx.input(1)
  const axis = normAxis(ctx.node, ctx.attrs.int('axis'), x.shape.length)
  return [takeFlat(x, elementTargets(ctx, x, indices, axis), indices.shape)]
}

/** How ScatterElements and ScatterND combine an update with the value it lands on. */
const SCATTER_REDUCTIONS: Record<string, (a: number, b: number) => number> = {
  none: (_, b) => b,
  add: (a, b) => a + b,
  mul: (a, b) => a * b,
  max: Math.max,
  min: Math.min,
}

/** The node's `reduction` attribute as a function of (the value, the update). */
export function scatterReduction(ctx: KernelContext): (a: number, b: number) => number {
  const reduction = ctx.attrs.string('reduction')
  return (
    SCATTER_REDUCTIONS[reduction] ?? ctx.fail(`reduction '${reduction}' is not none, add, mul, max or min`)
  )
}

const scatterElements: Kernel = (ctx) => {
  const [x, indices, updates] = [0, 1, 2].map((i) => ctx.input(i))
  const axis = normAxis(ctx.node, ctx.attrs.int('axis'), x.shape.length)
  const targets = elementTargets(ctx, x, indices, axis)
  // replacing copies the data as it is (no detour through float64 for int64 values)
  if (ctx.attrs.string('reduction') === 'none') {
    const out = tensor(x.dtype, x.shape, x.data.slice() as typeof x.data)
    const to = out.data as unknown as { [i: number]: unknown }
    const from = updates.data as unknown as { [i: number]: unknown }
    for (let k = 0; k < targets.length; k++) to[targets[k]] = from[k]
    return [out]
  }
  const f = scatterReduction(ctx)
  const v = toF64(x)
  const u = toF64(updates)
  for (let k = 0; k < targets.length; k++) v[targets[k]] = f(v[targets[k]], u[k])
  return [fromF64(x.dtype, x.shape, v)]
}

const oneHot: Kernel = (ctx) => {
  const indices = ints(ctx.input(0))
  const depth = Number(ctx.input(1).data[0])
  const [off, on] = toF64(ctx.input(2))
  const inShape = ctx.input(0).shape
  const axis = normAxis(ctx.node, ctx.attrs.int('axis'), inShape.length + 1)
  const shape = [...inShape.slice(0, axis), depth, ...inShape.slice(axis)]
  const ist = stridesOf(inShape)
  const v = new Float64Array(indices.length * depth)
  let k = 0
  mapIndex(shape, (idx) => {
    let flat = 0
    for (let d = 0, e = 0; d < idx.length; d++) if (d !== axis) flat += idx[d] * ist[e++]
    const i = indices[flat] < 0 ? indices[flat] + depth : indices[flat]
    v[k++] = idx[axis] === i ? on : off
    return 0
  })
  return [fromF64(ctx.input(2).dtype, shape, v)]
}

/** NonZero: the coordinates of the non-zero elements, one row per dim, in row-major order. */
const nonZero: Kernel = (ctx) => {
  const x = ctx.input(0)
  const v = toF64(x)
  const rank = x.shape.length
  const st = stridesOf(x.shape)
  let hits = 0
  for (let k = 0; k < v.length; k++) if (v[k] !== 0) hits++
  const out = new Float64Array(rank * hits)
  for (let k = 0, h = 0; k < v.length; k++) {
    if (v[k] === 0) continue
    for (let d = 0; d < rank; d++) out[d * hits + h] = Math.floor(k / st[d]) % x.shape[d]
    h++
  }
  return [fromF64('int64', [rank, hits], out)]
}

export const INDEXING_KERNELS: Record<string, Kernel> = {
  Gather: gather,
  GatherElements: gatherElements,
  ScatterElements: scatterElements,
  OneHot: oneHot,
  NonZero: nonZero,
}
