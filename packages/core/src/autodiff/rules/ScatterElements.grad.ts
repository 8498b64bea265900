import { attr } from '../../graph/types.ts'
import type { GradContext, GradRule } from '../rule.ts'
import { normAxis } from './common.ts'
import { reductionAttr, scatterRule } from './scatter.ts'

const axisOf = (ctx: GradContext) => attr.int(normAxis(ctx, ctx.attrs.int('axis'), ctx.inputShape(0).length))

export const scatterElementsGrad: GradRule = scatterRule('ScatterElements', {
  take: (ctx, value) => ctx.emit.op('GatherElements', [value, ctx.input(1)], { axis: axisOf(ctx) }),
  put: (ctx, data, updates, reduction) =>
    ctx.emit.op('ScatterElements', [data, ctx.input(1), updates], {
      axis: axisOf(ctx),
      ...reductionAttr(reduction),
    }),
})
