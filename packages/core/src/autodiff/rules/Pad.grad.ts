import type { GradRule } from '../rule.ts'
import { constInts, normAxis } from './common.ts'

/**
 * Constant-mode Pad: the gradient is g cropped back to the input (a Slice); negative pads (crops)
 * become zero padding of the gradient. Reflect/edge modes would fold gradients onto the border
 * and are not supported.
 */
export const padGrad: GradRule = {
  opType: 'Pad',
  grad(ctx) {
    if (ctx.attrs.string('mode') !== 'constant')
      ctx.fail(`mode '${ctx.attrs.string('mode')}' is not supported`)
    const e = ctx.emit
    const x = ctx.inputShape(0)
    const rank = x.length
    const given = constInts(ctx, 1, 'pads')
    const axes = ctx.hasInput(3)
      ? constInts(ctx, 3, 'axes').map((a) => normAxis(ctx, a, rank))
      : x.map((_, i) => i)
    const begin = new Array<number>(rank).fill(0)
    const end = new Array<number>(rank).fill(0)
    axes.forEach((a, i) => {
      begin[a] = given[i]
      end[a] = given[axes.length + i]
    })
    const starts = begin.map((b) => Math.max(b, 0))
    const ends = x.map((d, i) => starts[i] + d - Math.max(-begin[i], 0) - Math.max(-end[i], 0))
    let g = e.op('Slice', [ctx.dyOrZeros(0), e.ints(starts), e.ints(ends), e.ints(x.map((_, i) => i))])
    const refill = [...begin.map((b) => Math.max(-b, 0)), ...end.map((v) => Math.max(-v, 0))]
    if (refill.some((v) => v > 0)) g = e.op('Pad', [g, e.ints(refill)])
    return [g]
  },
}
