import { sumTo } from '../broadcast.ts'
import type { GradRule } from '../rule.ts'

/** The gradient goes to X where the condition holds and to Y elsewhere; the condition gets none. */
export const whereGrad: GradRule = {
  opType: 'Where',
  inputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const g = ctx.dyOrZeros(0)
    const zero = e.scalar(0, ctx.inputDtype(1))
    const side = (i: number) => {
      const picked = e.op('Where', i === 1 ? [ctx.input(0), g, zero] : [ctx.input(0), zero, g])
      return sumTo(e, picked, ctx.outputShape(0), ctx.inputShape(i))
    }
    return [undefined, ctx.needsGrad(1) ? side(1) : undefined, ctx.needsGrad(2) ? side(2) : undefined]
  },
}
