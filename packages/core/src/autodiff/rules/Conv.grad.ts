import type { GradRule } from '../rule.ts'
import { convGeometry, convWeightGrad, transposedConv } from './conv-geometry.ts'

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i)

/**
 * Y = conv(X, W) + B with groups, strides, pads, dilations (any number of spatial axes).
 * dX is the transposed convolution of g with W (written as a Conv, see transposedConv), dW is
 * convWeightGrad's Conv of X by g, dB sums g over the batch and spatial axes.
 */
export const convGrad: GradRule = {
  opType: 'Conv',
  inputsToSave: [0, 1],
  grad(ctx) {
    const wShape = ctx.inputShape(1)
    const geo = convGeometry(ctx, wShape.slice(2))
    const group = ctx.attrs.int('group')
    const g = ctx.dyOrZeros(0)
    const spatial = range(wShape.length - 2, 2)
    return [
      ctx.needsGrad(0) ? transposedConv(ctx, g, ctx.input(1), wShape, geo, group) : undefined,
      ctx.needsGrad(1)
        ? convWeightGrad(
            ctx.emit,
            { x: ctx.input(0), dy: g, batch: ctx.inputShape(0)[0] },
            wShape,
            geo,
            group,
          )
        : undefined,
      ctx.hasInput(2) && ctx.needsGrad(2) ? ctx.emit.reduceSum(g, [0, ...spatial], false) : undefined,
    ]
  },
}
