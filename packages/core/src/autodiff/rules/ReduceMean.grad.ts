import type { GradRule } from '../rule.ts'
import { countOver, reductionRule } from './common.ts'

/** The gradient is divided by the reduced count and broadcast back over the reduced axes. */
export const reduceMeanGrad: GradRule = reductionRule('ReduceMean', {}, (ctx, back, axes) => {
  const count = countOver(ctx.inputShape(0), axes)
  const g = ctx.dyOrZeros(0)
  return back(count === 1 ? g : ctx.emit.op('Mul', [g, ctx.emit.scalar(1 / count, ctx.inputDtype(0))]))
})
