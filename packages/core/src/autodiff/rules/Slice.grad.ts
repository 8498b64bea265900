import type { GradRule } from '../rule.ts'
import { constInts, normAxis } from './common.ts'

/**
 * The gradient is scattered back into zeros of the input's shape. Unit-step axes are one Pad; other
 * steps (reversals, strides) multiply by a small 0/1 selection matrix along that axis.
 */
export const sliceGrad: GradRule = {
  opType: 'Slice',
  grad(ctx) {
    const e = ctx.emit
    const x = ctx.inputShape(0)
    const rank = x.length
    const starts = constInts(ctx, 1, 'starts')
    const ends = constInts(ctx, 2, 'ends')
    const axes = ctx.hasInput(3) ? constInts(ctx, 3, 'axes') : starts.map((_, i) => i)
    const steps = ctx.hasInput(4) ? constInts(ctx, 4, 'steps') : starts.map(() => 1)
    const pads = new Array<number>(2 * rank).fill(0)
    const picks: { axis: number; index: number[] }[] = []
    axes.forEach((a, i) => {
      const axis = normAxis(ctx, a, rank)
      const index = sliceIndices(x[axis], starts[i], ends[i], steps[i])
      if (steps[i] === 1) {
        pads[axis] = index.length === 0 ? 0 : index[0]
        pads[rank + axis] = x[axis] - (index.length === 0 ? 0 : index[0]) - index.length
      } else picks.push({ axis, index })
    })
    let g = ctx.dyOrZeros(0)
    const shape = [...ctx.outputShape(0)]
    for (const { axis, index } of picks) {
      g = scatterAxis(ctx, g, shape, axis, index, x[axis])
      shape[axis] = x[axis]
    }
    if (pads.some((p) => p !== 0)) g = e.op('Pad', [g, e.ints(pads)])
    return [g]
  },
}

/** The input positions a Slice reads along one axis (ONNX clamping rules). */
export function sliceIndices(dim: number, start: number, end: number, step: number): number[] {
  let s = start < 0 ? start + dim : start
  let t = end < 0 ? end + dim : end
  const out: number[] = []
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim)
    t = Math.min(Math.max(t, 0), dim)
    for (let i = s; i < t; i += step) out.push(i)
  } else {
    s = Math.min(Math.max(s, 0), dim - 1)
    t = Math.min(Math.max(t, -1), dim - 1)
    for (let i = s; i > t; i += step) out.push(i)
  }
  return out
}

/** g (with `shape`) mapped back to `dim` positions along `axis`: g·S with S[j, index[j]] = 1. */
function scatterAxis(
  ctx: Parameters<typeof sliceGrad.grad>[0],
  g: string,
  shape: number[],
  axis: number,
  index: number[],
  dim: number,
): string {
  const e = ctx.emit
  const select = new Float64Array(index.length * dim)
  index.forEach((p, j) => {
    select[j * dim + p] = 1
  })
  const sel = e.floats([index.length, dim], select, ctx.inputDtype(0), 'select')
  const rank = shape.length
  const toLast = [...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis), axis]
  const back = new Array<number>(rank)
  toLast.forEach((p, i) => {
    back[p] = i
  })
  const moved = axis === rank - 1 ? g : e.transpose(g, toLast)
  const spread = e.op('MatMul', [moved, sel])
  return axis === rank - 1 ? spread : e.transpose(spread, back)
}
