import type { GradRule } from '../rule.ts'
import { normAxis } from './common.ts'

/** Each input gets its slice of the gradient along the concat axis. */
export const concatGrad: GradRule = {
  opType: 'Concat',
  grad(ctx) {
    const e = ctx.emit
    const rank = ctx.outputShape(0).length
    const axis = normAxis(ctx, ctx.attrs.int('axis'), rank)
    const g = ctx.dyOrZeros(0)
    let start = 0
    return ctx.node.inputs.map((_, i) => {
      const len = ctx.inputShape(i)[axis]
      const begin = start
      start += len
      if (!ctx.needsGrad(i)) return undefined
      return e.op('Slice', [g, e.ints([begin]), e.ints([begin + len]), e.ints([axis])])
    })
  },
}
