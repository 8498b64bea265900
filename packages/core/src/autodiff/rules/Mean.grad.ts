import type { GradRule } from '../rule.ts'
import { broadcastGrads } from './common.ts'

/** Variadic Mean: every input gets g/n, summed back over its broadcast axes. */
export const meanGrad: GradRule = {
  opType: 'Mean',
  grad(ctx) {
    const e = ctx.emit
    const n = ctx.node.inputs.length
    const share = e.op('Mul', [ctx.dyOrZeros(0), e.scalar(1 / n, ctx.inputDtype(0))])
    return broadcastGrads(
      ctx,
      ctx.node.inputs.map(() => (g) => g),
      share,
    )
  },
}
