import { sumTo } from '../broadcast.ts'
import type { GradRule } from '../rule.ts'

export const addGrad: GradRule = {
  opType: 'Add',
  grad(ctx) {
    const g = ctx.dyOrZeros(0)
    const y = ctx.outputShape(0)
    return [0, 1].map((i) => (ctx.needsGrad(i) ? sumTo(ctx.emit, g, y, ctx.inputShape(i)) : undefined))
  },
}
