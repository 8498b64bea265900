import type { GradRule } from '../rule.ts'
import { broadcastGrads } from './common.ts'

/** y = x for x > 0, slope·x else: dx = g or slope·g; dslope = Σ g·x over x ≤ 0. */
export const pReluGrad: GradRule = {
  opType: 'PRelu',
  inputsToSave: [0, 1],
  grad(ctx) {
    const e = ctx.emit
    const x = ctx.input(0)
    const zero = e.scalar(0, ctx.inputDtype(0))
    const positive = e.op('Greater', [x, zero])
    return broadcastGrads(ctx, [
      (g) => e.op('Where', [positive, g, e.op('Mul', [g, ctx.input(1)])]),
      (g) => e.op('Where', [positive, zero, e.op('Mul', [g, x])]),
    ])
  },
}
