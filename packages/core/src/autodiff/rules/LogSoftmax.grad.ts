import type { GradRule } from '../rule.ts'
import { softmaxAxes } from './softmax-axes.ts'

/** y = log softmax(x): dx = g − eʸ·Σ g over the softmax axes. */
export const logSoftmaxGrad: GradRule = {
  opType: 'LogSoftmax',
  outputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const g = ctx.dyOrZeros(0)
    const total = e.reduceSum(g, softmaxAxes(ctx), true)
    return [e.op('Sub', [g, e.op('Mul', [e.op('Exp', [ctx.output(0)]), total])])]
  },
}
