import type { GradRule } from '../rule.ts'
import { unreduce } from './common.ts'

/** y = log Σeˣ: dx = e^(x−y)·g (a softmax over the reduced axes). */
export const reduceLogSumExpGrad: GradRule = {
  opType: 'ReduceLogSumExp',
  inputsToSave: [0],
  outputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const back = unreduce(ctx)
    const softmax = e.op('Exp', [e.op('Sub', [ctx.input(0), back(ctx.output(0))])])
    return [e.op('Mul', [softmax, back(ctx.dyOrZeros(0))])]
  },
}
