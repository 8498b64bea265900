import type { GradRule } from '../rule.ts'

/** y = x for x > α, else 0: dx = g where x > α, else 0. */
export const thresholdedReluGrad: GradRule = {
  opType: 'ThresholdedRelu',
  inputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const dtype = ctx.inputDtype(0)
    const above = e.op('Greater', [ctx.input(0), e.scalar(ctx.attrs.float('alpha'), dtype)])
    return [e.op('Where', [above, ctx.dyOrZeros(0), e.scalar(0, dtype)])]
  },
}
