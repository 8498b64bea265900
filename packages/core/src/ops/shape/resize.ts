/** Resize's output shape: from `sizes`, or floor(input × `scales`), over all axes or `axes` (opset 18). */
import type { Dim } from '../../graph/types.ts'
import { normAxis } from '../attrs.ts'
import { showShape } from '../dims.ts'
import type { ShapeContext, ShapeFn } from './context.ts'
import { constInts, unknownDim } from './movement.ts'

/** Per input axis, the output size and the scale (output / input when sizes are given). */
export function resizeTargets(ctx: ShapeContext, shape: Dim[]): { out: Dim[]; scales: number[] } {
  const rank = shape.length
  const axes = ctx.attrs.ints('axes')?.map((a) => normAxis(ctx.node, a, rank)) ?? shape.map((_, i) => i)
  const out = [...shape]
  const scales = shape.map(() => 1)
  const scaleValues = ctx.has(2) ? ctx.value(2) : undefined
  if (ctx.has(3)) {
    const sizes = constInts(ctx, 3)
    if (sizes.length !== axes.length) ctx.fail(`sizes [${sizes}] do not match ${axes.length} axes`)
    if (ctx.attrs.string('keep_aspect_ratio_policy') !== 'stretch')
      ctx.fail('keep_aspect_ratio_policy other than stretch is not supported')
    axes.forEach((a, j) => {
      out[a] = sizes[j]
      scales[a] = typeof shape[a] === 'number' ? sizes[j] / (shape[a] as number) : 1
    })
  } else if (scaleValues && scaleValues.data.length > 0) {
    const sv = Array.from(scaleValues.data as Float32Array, Number)
    if (sv.length !== axes.length) ctx.fail(`scales [${sv}] do not match ${axes.length} axes`)
    axes.forEach((a, j) => {
      const d = shape[a]
      scales[a] = sv[j]
      out[a] = typeof d === 'number' ? Math.floor(d * sv[j]) : sv[j] === 1 ? d : unknownDim(ctx, a)
    })
  } else if (ctx.has(2) || ctx.has(3)) {
    // scales or sizes computed at run time
    return { out: shape.map((_, i) => unknownDim(ctx, i)), scales }
  } else {
    ctx.fail('needs scales or sizes')
  }
  if (out.some((d) => typeof d === 'number' && d <= 0)) ctx.fail(`output ${showShape(out)} is empty`)
  return { out, scales }
}

export const RESIZE_SHAPES: Record<string, ShapeFn> = {
  Resize: (ctx) => [{ dtype: ctx.dtype(0), shape: resizeTargets(ctx, ctx.shape(0)).out }],
}
