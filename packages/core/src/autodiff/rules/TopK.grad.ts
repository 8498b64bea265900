import { attr } from '../../graph/types.ts'
import type { GradRule } from '../rule.ts'
import { normAxis } from './common.ts'

/**
 * The values output's gradient goes back to the positions TopK took, zero elsewhere: a
 * ScatterElements along `axis` with the saved indices, which are distinct within each slice, so no
 * reduction (and no opset 16) is needed. Ties go to the position TopK chose. The indices output and
 * K have no gradient.
 */
export const topKGrad: GradRule = {
  opType: 'TopK',
  outputsToSave: [1],
  grad(ctx) {
    if (!ctx.needsGrad(0)) return []
    const x = ctx.inputShape(0)
    const axis = normAxis(ctx, ctx.attrs.int('axis'), x.length)
    const e = ctx.emit
    const zeros = e.zeros(x, ctx.inputDtype(0))
    return [e.op('ScatterElements', [zeros, ctx.output(1), ctx.dyOrZeros(0)], { axis: attr.int(axis) })]
  },
}
