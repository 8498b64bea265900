import type { GradRule } from '../rule.ts'
import { reductionRule } from './common.ts'

/** y = √Σx²: dx = x/y·g. */
export const reduceL2Grad: GradRule = reductionRule(
  'ReduceL2',
  { inputsToSave: [0], outputsToSave: [0] },
  (ctx, back) =>
    ctx.emit.op('Mul', [ctx.input(0), back(ctx.emit.op('Div', [ctx.dyOrZeros(0), ctx.output(0)]))]),
)
