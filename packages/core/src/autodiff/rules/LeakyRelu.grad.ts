import type { GradRule } from '../rule.ts'

/** dx = g where x > 0, α·g elsewhere. */
export const leakyReluGrad: GradRule = {
  opType: 'LeakyRelu',
  inputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const dtype = ctx.inputDtype(0)
    const g = ctx.dyOrZeros(0)
    const positive = e.op('Greater', [ctx.input(0), e.scalar(0, dtype)])
    const leaked = e.op('Mul', [g, e.scalar(ctx.attrs.float('alpha'), dtype)])
    return [e.op('Where', [positive, g, leaked])]
  },
}
