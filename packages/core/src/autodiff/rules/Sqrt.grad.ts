import type { GradRule } from '../rule.ts'

/** y = √x: dx = g / (2y). */
export const sqrtGrad: GradRule = {
  opType: 'Sqrt',
  outputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const twoY = e.op('Mul', [ctx.output(0), e.scalar(2, ctx.inputDtype(0))])
    return [e.op('Div', [ctx.dyOrZeros(0), twoY])]
  },
}
