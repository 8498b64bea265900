import type { GradRule } from '../rule.ts'

/** y = x/(1 + |x|): dx = g/(1 + |x|)². */
export const softsignGrad: GradRule = {
  opType: 'Softsign',
  inputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const denominator = e.op('Add', [e.op('Abs', [ctx.input(0)]), e.scalar(1, ctx.inputDtype(0))])
    return [e.op('Div', [ctx.dyOrZeros(0), e.op('Mul', [denominator, denominator])])]
  },
}
