import { sumTo } from '../broadcast.ts'
import type { GradRule } from '../rule.ts'

/** d(a·b) = g·b, g·a, each summed back over its broadcast axes. */
export const mulGrad: GradRule = {
  opType: 'Mul',
  inputsToSave: [0, 1],
  grad(ctx) {
    const g = ctx.dyOrZeros(0)
    const y = ctx.outputShape(0)
    const other = (i: number) => ctx.input(1 - i)
    return [0, 1].map((i) =>
      ctx.needsGrad(i) ? sumTo(ctx.emit, ctx.emit.op('Mul', [g, other(i)]), y, ctx.inputShape(i)) : undefined,
    )
  },
}
