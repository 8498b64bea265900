import type { GradRule } from '../rule.ts'
import { broadcastGrads } from './common.ts'

/** y = a/b: da = g/b, db = −g·y/b (reusing y saves recomputing a/b²). */
export const divGrad: GradRule = {
  opType: 'Div',
  inputsToSave: [1],
  outputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const b = ctx.input(1)
    return broadcastGrads(ctx, [
      (g) => e.op('Div', [g, b]),
      (g) => e.op('Neg', [e.op('Div', [e.op('Mul', [g, ctx.output(0)]), b])]),
    ])
  },
}
