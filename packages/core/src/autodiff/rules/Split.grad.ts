import type { GradRule } from '../rule.ts'
import { normAxis } from './common.ts'

/** The output gradients are concatenated back (zeros for outputs nothing depends on). */
export const splitGrad: GradRule = {
  opType: 'Split',
  grad(ctx) {
    const rank = ctx.inputShape(0).length
    const axis = normAxis(ctx, ctx.attrs.int('axis'), rank)
    const parts = ctx.node.outputs.map((_, i) => ctx.dyOrZeros(i))
    return [
      parts.length === 1 ? parts[0] : ctx.emit.op('Concat', parts, { axis: { kind: 'int', value: axis } }),
    ]
  },
}
