/**
 * Resize, separably one axis at a time: nearest (all four rounding modes), linear and cubic, with
 * the half_pixel, pytorch_half_pixel, align_corners, asymmetric and tf_half_pixel_for_nn
 * coordinate transforms (what PyTorch's interpolate exports).
 */
import { isResampled, resizeTaps } from '../ops/resize-taps.ts'
import { resizeTargets } from '../ops/shape/resize.ts'
import { numel } from '../tensor.ts'
import type { Kernel } from './kernel.ts'
import { aroundAxis } from './reduce.ts'
import { concreteShapeContext } from './shape-of.ts'
import { fromF64, toF64 } from './values.ts'

export const resize: Kernel = (ctx) => {
  const x = ctx.input(0)
  const { out, scales } = resizeTargets(concreteShapeContext(ctx), [...x.shape])
  let shape = [...x.shape]
  let v = toF64(x)
  out.forEach((o, axis) => {
    if (!isResampled(shape[axis], o as number, scales[axis])) return
    const { outer, dim, inner } = aroundAxis(shape, axis)
    const plan = resizeTaps(ctx, dim, o as number, scales[axis])
    const next = new Float64Array(outer * (o as number) * inner)
    for (let p = 0; p < outer; p++) {
      for (let q = 0; q < (o as number); q++) {
        const { index, weight } = plan[q]
        for (let j = 0; j < inner; j++) {
          let s = 0
          for (let k = 0; k < index.length; k++) s += weight[k] * v[(p * dim + index[k]) * inner + j]
          next[(p * (o as number) + q) * inner + j] = s
        }
      }
    }
    shape = shape.map((d, i) => (i === axis ? (o as number) : d))
    v = next
  })
  if (numel(shape) !== v.length) ctx.fail('internal: resized size mismatch')
  return [fromF64(x.dtype, shape, v)]
}
