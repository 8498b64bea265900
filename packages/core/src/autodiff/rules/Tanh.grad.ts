import type { GradRule } from '../rule.ts'

/** y = tanh x: dx = g·(1 − y²). */
export const tanhGrad: GradRule = {
  opType: 'Tanh',
  outputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const y = ctx.output(0)
    const oneMinus = e.op('Sub', [e.scalar(1, ctx.inputDtype(0)), e.op('Mul', [y, y])])
    return [e.op('Mul', [ctx.dyOrZeros(0), oneMinus])]
  },
}
