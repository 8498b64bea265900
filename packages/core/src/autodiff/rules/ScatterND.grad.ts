import type { GradRule } from '../rule.ts'
import { scatterRule } from './scatter.ts'

export const scatterNDGrad: GradRule = scatterRule(
  'ScatterND',
  (ctx, g) => ctx.emit.op('GatherND', [g, ctx.input(1)]),
  (ctx, data, updates) => ctx.emit.op('ScatterND', [data, ctx.input(1), updates]),
)
