import { sumTo } from '../broadcast.ts'
import type { GradRule } from '../rule.ts'

/** y = a^b: da = g·b·a^(b−1), db = g·y·ln a. An integer exponent is cast to a's dtype first. */
export const powGrad: GradRule = {
  opType: 'Pow',
  inputsToSave: [0, 1],
  outputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const g = ctx.dyOrZeros(0)
    const y = ctx.outputShape(0)
    const dtype = ctx.inputDtype(0)
    const a = ctx.input(0)
    let da: string | undefined
    if (ctx.needsGrad(0)) {
      const b = ctx.inputDtype(1) === dtype ? ctx.input(1) : e.cast(ctx.input(1), dtype)
      const aPow = e.op('Pow', [a, e.op('Sub', [b, e.scalar(1, dtype)])])
      da = sumTo(e, e.op('Mul', [g, e.op('Mul', [b, aPow])]), y, ctx.inputShape(0))
    }
    let db: string | undefined
    if (ctx.needsGrad(1)) {
      const t = e.op('Mul', [e.op('Mul', [g, ctx.output(0)]), e.op('Log', [a])])
      db = sumTo(e, t, y, ctx.inputShape(1))
    }
    return [da, db]
  },
}
