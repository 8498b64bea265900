import { sumTo } from '../broadcast.ts'
import type { GradRule } from '../rule.ts'

/** Expand broadcasts: the gradient is summed back over the broadcast axes. */
export const expandGrad: GradRule = {
  opType: 'Expand',
  grad: (ctx) => [sumTo(ctx.emit, ctx.dyOrZeros(0), ctx.outputShape(0), ctx.inputShape(0))],
}
