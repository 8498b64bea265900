import type { GradRule } from '../rule.ts'
import { broadcastGrads } from './common.ts'

/** The gradient goes to X where the condition holds and to Y elsewhere; the condition gets none. */
export const whereGrad: GradRule = {
  opType: 'Where',
  inputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const condition = ctx.input(0)
    const zero = e.scalar(0, ctx.inputDtype(1))
    return broadcastGrads(ctx, [
      undefined,
      (g) => e.op('Where', [condition, g, zero]),
      (g) => e.op('Where', [condition, zero, g]),
    ])
  },
}
