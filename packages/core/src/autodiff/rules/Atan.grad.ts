import type { GradRule } from '../rule.ts'

/** y = atan x: dx = g / (1 + x²). */
export const atanGrad: GradRule = {
  opType: 'Atan',
  inputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const x = ctx.input(0)
    const denominator = e.op('Add', [e.scalar(1, ctx.inputDtype(0)), e.op('Mul', [x, x])])
    return [e.op('Div', [ctx.dyOrZeros(0), denominator])]
  },
}
