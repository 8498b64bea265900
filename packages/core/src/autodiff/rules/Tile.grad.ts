import type { GradRule } from '../rule.ts'
import { constInts } from './common.ts'

/** Every copy's gradient adds up: g viewed as [r0, d0, r1, d1, …] summed over the r axes. */
export const tileGrad: GradRule = {
  opType: 'Tile',
  grad(ctx) {
    const e = ctx.emit
    const x = ctx.inputShape(0)
    const repeats = constInts(ctx, 1, 'repeats')
    const split = x.flatMap((d, i) => [repeats[i], d])
    const summed = e.reduceSum(
      e.reshape(ctx.dyOrZeros(0), split),
      x.map((_, i) => 2 * i),
      false,
    )
    return [summed]
  },
}
