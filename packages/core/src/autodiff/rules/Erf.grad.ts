import type { GradRule } from '../rule.ts'

/** d erf(x)/dx = 2/√π · e^(−x²). */
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI)

export const erfGrad: GradRule = {
  opType: 'Erf',
  inputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const x = ctx.input(0)
    const gauss = e.op('Exp', [e.op('Neg', [e.op('Mul', [x, x])])])
    const slope = e.op('Mul', [gauss, e.scalar(TWO_OVER_SQRT_PI, ctx.inputDtype(0))])
    return [e.op('Mul', [ctx.dyOrZeros(0), slope])]
  },
}
