import type { GradRule } from '../rule.ts'

/** dx = g where y > 0 (y > 0 ⇔ x > 0; y is usually kept for the next layer anyway). */
export const reluGrad: GradRule = {
  opType: 'Relu',
  outputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const zero = e.scalar(0, ctx.inputDtype(0))
    return [e.op('Where', [e.op('Greater', [ctx.output(0), zero]), ctx.dyOrZeros(0), zero])]
  },
}
