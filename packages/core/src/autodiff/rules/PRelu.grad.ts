import { sumTo } from '../broadcast.ts'
import type { GradRule } from '../rule.ts'

/** y = x for x > 0, slope·x else: dx = g or slope·g; dslope = Σ g·x over x ≤ 0. */
export const pReluGrad: GradRule = {
  opType: 'PRelu',
  inputsToSave: [0, 1],
  grad(ctx) {
    const e = ctx.emit
    const dtype = ctx.inputDtype(0)
    const g = ctx.dyOrZeros(0)
    const zero = e.scalar(0, dtype)
    const positive = e.op('Greater', [ctx.input(0), zero])
    const y = ctx.outputShape(0)
    return [
      ctx.needsGrad(0)
        ? sumTo(e, e.op('Where', [positive, g, e.op('Mul', [g, ctx.input(1)])]), y, ctx.inputShape(0))
        : undefined,
      ctx.needsGrad(1)
        ? sumTo(e, e.op('Where', [positive, zero, e.op('Mul', [g, ctx.input(0)])]), y, ctx.inputShape(1))
        : undefined,
    ]
  },
}
