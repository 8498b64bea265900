/** Data-movement kernels: reshapes, Transpose, Concat, Split, Slice, Expand, Tile, Pad, Trilu. */
import { normAxis } from '../ops/attrs.ts'
import { resolveSlice } from '../ops/geometry.ts'
import { splitSizes } from '../ops/shape/movement.ts'
import { numel, type Tensor, zeros } from '../tensor.ts'
import type { Kernel } from './kernel.ts'
import { aroundAxis } from './reduce.ts'
import { concreteShapeContext, outputShapes } from './shape-of.ts'
import {
  broadcastIndex,
  fromF64,
  ints,
  mapIndex,
  scalar,
  stridedIndex,
  stridesOf,
  takeFlat,
  toF64,
  withShape,
} from './values.ts'

/** Reshape, Flatten, Squeeze, Unsqueeze: same data, new shape. */
const reshapeLike: Kernel = (ctx) => [withShape(ctx.input(0), outputShapes(ctx)[0])]

const transpose: Kernel = (ctx) => {
  const x = ctx.input(0)
  const [shape] = outputShapes(ctx)
  const perm = ctx.attrs.ints('perm') ?? x.shape.map((_, i) => x.shape.length - 1 - i)
  const st = stridesOf(x.shape)
  return [
    takeFlat(
      x,
      stridedIndex(
        shape,
        perm.map((p) => st[p]),
      ),
      shape,
    ),
  ]
}

/** Copies `part` into `out` at offset `at` along `axis` (outer × block layout). */
function copyAlong(out: Tensor, part: Tensor, axis: number, at: number, outDim: number) {
  const { outer, dim, inner } = aroundAxis(part.shape, axis)
  const block = dim * inner
  const to = out.data as unknown as { [i: number]: unknown }
  const from = part.data as unknown as { [i: number]: unknown }
  for (let o = 0; o < outer; o++) {
    const base = o * outDim * inner + at * inner
    for (let k = 0; k < block; k++) to[base + k] = from[o * block + k]
  }
}

const concat: Kernel = (ctx) => {
  const xs = ctx.inputs.filter((t): t is Tensor => t !== undefined)
  const [shape] = outputShapes(ctx)
  const axis = normAxis(ctx.node, ctx.attrs.int('axis'), shape.length)
  const out = zeros(xs[0].dtype, shape)
  let at = 0
  for (const x of xs) {
    copyAlong(out, x, axis, at, shape[axis])
    at += x.shape[axis]
  }
  return [out]
}

/** Elements [first, first + count·step) of `axis`, by index map. */
function sliceAxis(x: Tensor, axis: number, first: number, count: number, step: number): Tensor {
  const shape = x.shape.map((d, i) => (i === axis ? count : d))
  const st = stridesOf(x.shape)
  return takeFlat(
    x,
    stridedIndex(
      shape,
      st.map((s, i) => (i === axis ? s * step : s)),
      first * st[axis],
    ),
    shape,
  )
}

const split: Kernel = (ctx) => {
  const x = ctx.input(0)
  const axis = normAxis(ctx.node, ctx.attrs.int('axis'), x.shape.length)
  const sizes = splitSizes(concreteShapeContext(ctx), x.shape[axis], ctx.node.outputs.length) as number[]
  let at = 0
  return sizes.map((n) => {
    const part = sliceAxis(x, axis, at, n, 1)
    at += n
    return part
  })
}

const slice: Kernel = (ctx) => {
  const x = ctx.input(0)
  const starts = ints(ctx.input(1))
  const ends = ints(ctx.input(2))
  const axes = ctx.inputs[3] ? ints(ctx.inputs[3]) : starts.map((_, i) => i)
  const steps = ctx.inputs[4] ? ints(ctx.inputs[4]) : starts.map(() => 1)
  const first = x.shape.map(() => 0)
  const step = x.shape.map(() => 1)
  const shape = [...x.shape]
  axes.forEach((a, j) => {
    const axis = normAxis(ctx.node, a, x.shape.length)
    if (steps[j] === 0) ctx.fail('steps must not be 0')
    const r = resolveSlice(x.shape[axis], starts[j], ends[j], steps[j])
    first[axis] = r.first
    step[axis] = steps[j]
    shape[axis] = r.count
  })
  const st = stridesOf(x.shape)
  return [
    takeFlat(
      x,
      stridedIndex(
        shape,
        st.map((s, i) => s * step[i]),
        first.reduce((s, f, i) => s + f * st[i], 0),
      ),
      shape,
    ),
  ]
}

const expand: Kernel = (ctx) => {
  const x = ctx.input(0)
  const [shape] = outputShapes(ctx)
  return [takeFlat(x, broadcastIndex(x.shape, shape), shape)]
}

const tile: Kernel = (ctx) => {
  const x = ctx.input(0)
  const [shape] = outputShapes(ctx)
  const st = stridesOf(x.shape)
  return [
    takeFlat(
      x,
      mapIndex(shape, (idx) => idx.reduce((s, v, i) => s + (v % x.shape[i]) * st[i], 0)),
      shape,
    ),
  ]
}

/** Source coordinate of padded position p on an axis of size n, or -1 for the constant fill. */
function padSource(mode: string, p: number, n: number): number {
  if (p >= 0 && p < n) return p
  if (mode === 'edge') return p < 0 ? 0 : n - 1
  if (mode === 'reflect') {
    const period = 2 * (n - 1)
    if (period === 0) return 0
    const m = ((p % period) + period) % period
    return m < n ? m : period - m
  }
  return -1
}

const pad: Kernel = (ctx) => {
  const x = ctx.input(0)
  const [shape] = outputShapes(ctx)
  const mode = ctx.attrs.string('mode')
  if (!['constant', 'reflect', 'edge'].includes(mode))
    ctx.fail(`mode '${mode}' is not constant, reflect or edge`)
  const before = shape.map(() => 0)
  const pads = ints(ctx.input(1))
  const axes = ctx.inputs[3]
    ? ints(ctx.inputs[3]).map((a) => normAxis(ctx.node, a, x.shape.length))
    : x.shape.map((_, i) => i)
  axes.forEach((a, j) => {
    before[a] = pads[j]
  })
  const st = stridesOf(x.shape)
  const src = mapIndex(shape, (idx) => {
    let s = 0
    for (let i = 0; i < idx.length; i++) {
      const c = padSource(mode, idx[i] - before[i], x.shape[i])
      if (c < 0) return -1
      s += c * st[i]
    }
    return s
  })
  const fill = ctx.inputs[2] ? toF64(ctx.inputs[2])[0] : 0
  const filled = fromF64(x.dtype, shape, new Float64Array(numel(shape)).fill(fill))
  const to = filled.data as unknown as { [i: number]: unknown }
  const from = x.data as unknown as { [i: number]: unknown }
  for (let k = 0; k < src.length; k++) if (src[k] >= 0) to[k] = from[src[k]]
  return [filled]
}

const trilu: Kernel = (ctx) => {
  const x = ctx.input(0)
  const k = ctx.inputs[1] ? scalar(ctx.inputs[1]) : 0
  const upper = ctx.attrs.int('upper') === 1
  const [rows, cols] = x.shape.slice(-2)
  const out = zeros(x.dtype, x.shape)
  const to = out.data as unknown as { [i: number]: unknown }
  const from = x.data as unknown as { [i: number]: unknown }
  for (let e = 0; e < x.data.length; e++) {
    const j = e % cols
    const i = Math.floor(e / cols) % rows
    if (upper ? j - i >= k : j - i <= k) to[e] = from[e]
  }
  return [out]
}

export const MOVEMENT_KERNELS: Record<string, Kernel> = {
  Reshape: reshapeLike,
  Flatten: reshapeLike,
  Squeeze: reshapeLike,
  Unsqueeze: reshapeLike,
  Transpose: transpose,
  Concat: concat,
  Split: split,
  Slice: slice,
  Expand: expand,
  Tile: tile,
  Pad: pad,
  Trilu: trilu,
}
