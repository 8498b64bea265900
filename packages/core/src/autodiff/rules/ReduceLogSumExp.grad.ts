import type { GradRule } from '../rule.ts'
import { reductionRule } from './common.ts'

/** y = log Σeˣ: dx = e^(x−y)·g (a softmax over the reduced axes). */
export const reduceLogSumExpGrad: GradRule = reductionRule(
  'ReduceLogSumExp',
  { inputsToSave: [0], outputsToSave: [0] },
  (ctx, back) => {
    const e = ctx.emit
    const softmax = e.op('Exp', [e.op('Sub', [ctx.input(0), back(ctx.output(0))])])
    return e.op('Mul', [softmax, back(ctx.dyOrZeros(0))])
  },
)
