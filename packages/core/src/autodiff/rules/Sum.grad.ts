import { sumTo } from '../broadcast.ts'
import type { GradRule } from '../rule.ts'

/** Variadic Sum: every input gets g, summed back over its broadcast axes. */
export const sumGrad: GradRule = {
  opType: 'Sum',
  grad(ctx) {
    const g = ctx.dyOrZeros(0)
    return ctx.node.inputs.map((_, i) =>
      ctx.needsGrad(i) ? sumTo(ctx.emit, g, ctx.outputShape(0), ctx.inputShape(i)) : undefined,
    )
  },
}
