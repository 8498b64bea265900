import type { GradRule } from '../rule.ts'
import { broadcastGrads } from './common.ts'

/** d(a·b) = g·b, g·a, each summed back over its broadcast axes. */
export const mulGrad: GradRule = {
  opType: 'Mul',
  inputsToSave: [0, 1],
  grad(ctx) {
    const e = ctx.emit
    return broadcastGrads(ctx, [(g) => e.op('Mul', [g, ctx.input(1)]), (g) => e.op('Mul', [g, ctx.input(0)])])
  },
}
