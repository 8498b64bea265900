import { sumTo } from '../broadcast.ts'
import type { GradRule } from '../rule.ts'

export const subGrad: GradRule = {
  opType: 'Sub',
  grad(ctx) {
    const g = ctx.dyOrZeros(0)
    const y = ctx.outputShape(0)
    return [
      ctx.needsGrad(0) ? sumTo(ctx.emit, g, y, ctx.inputShape(0)) : undefined,
      ctx.needsGrad(1) ? sumTo(ctx.emit, ctx.emit.op('Neg', [g]), y, ctx.inputShape(1)) : undefined,
    ]
  },
}
