import type { GradRule } from '../rule.ts'
import { softmaxAxes } from './softmax-axes.ts'

/** y = softmax(x): dx = y·(g − Σ g·y) over the softmax axes. */
export const softmaxGrad: GradRule = {
  opType: 'Softmax',
  outputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const y = ctx.output(0)
    const g = ctx.dyOrZeros(0)
    const dot = e.reduceSum(e.op('Mul', [g, y]), softmaxAxes(ctx), true)
    return [e.op('Mul', [y, e.op('Sub', [g, dot])])]
  },
}
