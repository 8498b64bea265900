import type { GradRule } from '../rule.ts'
import { reductionAttr, scatterRule } from './scatter.ts'

export const scatterNDGrad: GradRule = scatterRule('ScatterND', {
  take: (ctx, value) => ctx.emit.op('GatherND', [value, ctx.input(1)]),
  put: (ctx, data, updates, reduction) =>
    ctx.emit.op('ScatterND', [data, ctx.input(1), updates], reductionAttr(reduction)),
})
