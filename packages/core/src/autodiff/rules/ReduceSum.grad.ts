import type { GradRule } from '../rule.ts'
import { expandReduced, reducedAxes } from './common.ts'

/** The gradient is broadcast back over the reduced axes. */
export const reduceSumGrad: GradRule = {
  opType: 'ReduceSum',
  grad(ctx) {
    const axes = reducedAxes(ctx)
    const g = ctx.dyOrZeros(0)
    return [axes === undefined ? g : expandReduced(ctx, g, axes)]
  },
}
