import { sumTo } from '../broadcast.ts'
import type { GradRule } from '../rule.ts'

/** y = a/b: da = g/b, db = −g·y/b (reusing y saves recomputing a/b²). */
export const divGrad: GradRule = {
  opType: 'Div',
  inputsToSave: [1],
  outputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const g = ctx.dyOrZeros(0)
    const y = ctx.outputShape(0)
    const b = ctx.input(1)
    return [
      ctx.needsGrad(0) ? sumTo(e, e.op('Div', [g, b]), y, ctx.inputShape(0)) : undefined,
      ctx.needsGrad(1)
        ? sumTo(e, e.op('Neg', [e.op('Div', [e.op('Mul', [g, ctx.output(0)]), b])]), y, ctx.inputShape(1))
        : undefined,
    ]
  },
}
