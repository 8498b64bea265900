import { attr } from '../../graph/types.ts'
import type { GradRule } from '../rule.ts'
import { normAxis } from './common.ts'

/** The gradient scatters back along `axis`, adding where an index repeats (opset 16+). */
export const gatherElementsGrad: GradRule = {
  opType: 'GatherElements',
  inputsToSave: [1],
  grad(ctx) {
    if (!ctx.needsGrad(0)) return []
    if (ctx.opset < 16)
      ctx.fail('the GatherElements gradient needs opset 16 (ScatterElements with reduction)')
    const e = ctx.emit
    const x = ctx.inputShape(0)
    const axis = normAxis(ctx, ctx.attrs.int('axis'), x.length)
    const scattered = e.op(
      'ScatterElements',
      [e.zeros(x, ctx.inputDtype(0)), ctx.input(1), ctx.dyOrZeros(0)],
      {
        axis: attr.int(axis),
        reduction: attr.string('add'),
      },
    )
    return [scattered]
  },
}
