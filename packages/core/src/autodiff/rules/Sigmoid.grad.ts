import type { GradRule } from '../rule.ts'

/** y = σ(x): dx = g·y·(1 − y). */
export const sigmoidGrad: GradRule = {
  opType: 'Sigmoid',
  outputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const y = ctx.output(0)
    const slope = e.op('Mul', [y, e.op('Sub', [e.scalar(1, ctx.inputDtype(0)), y])])
    return [e.op('Mul', [ctx.dyOrZeros(0), slope])]
  },
}
