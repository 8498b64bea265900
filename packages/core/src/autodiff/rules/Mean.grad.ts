import { sumTo } from '../broadcast.ts'
import type { GradRule } from '../rule.ts'

/** Variadic Mean: every input gets g/n, summed back over its broadcast axes. */
export const meanGrad: GradRule = {
  opType: 'Mean',
  grad(ctx) {
    const e = ctx.emit
    const n = ctx.node.inputs.length
    const g = e.op('Mul', [ctx.dyOrZeros(0), e.scalar(1 / n, ctx.inputDtype(0))])
    return ctx.node.inputs.map((_, i) =>
      ctx.needsGrad(i) ? sumTo(e, g, ctx.outputShape(0), ctx.inputShape(i)) : undefined,
    )
  },
}
