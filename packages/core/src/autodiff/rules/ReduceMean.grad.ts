import type { GradRule } from '../rule.ts'
import { countOver, expandReduced, reducedAxes } from './common.ts'

/** The gradient is broadcast back over the reduced axes and divided by the reduced count. */
export const reduceMeanGrad: GradRule = {
  opType: 'ReduceMean',
  grad(ctx) {
    const e = ctx.emit
    const axes = reducedAxes(ctx)
    const g = ctx.dyOrZeros(0)
    if (axes === undefined) return [g]
    const n = countOver(ctx.inputShape(0), axes)
    return [expandReduced(ctx, e.op('Mul', [g, e.scalar(1 / n, ctx.inputDtype(0))]), axes)]
  },
}
