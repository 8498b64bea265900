import type { GradRule } from '../rule.ts'
import { broadcastGrads } from './common.ts'

/** y = a^b: da = g·b·a^(b−1), db = g·y·ln a. An integer exponent is cast to a's dtype first. */
export const powGrad: GradRule = {
  opType: 'Pow',
  inputsToSave: [0, 1],
  outputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const dtype = ctx.inputDtype(0)
    const a = ctx.input(0)
    const da = (g: string) => {
      const b = ctx.inputDtype(1) === dtype ? ctx.input(1) : e.cast(ctx.input(1), dtype)
      return e.op('Mul', [g, e.op('Mul', [b, e.op('Pow', [a, e.op('Sub', [b, e.scalar(1, dtype)])])])])
    }
    const db = (g: string) => e.op('Mul', [e.op('Mul', [g, ctx.output(0)]), e.op('Log', [a])])
    return broadcastGrads(ctx, [da, db])
  },
}
