import type { GradRule } from '../rule.ts'

/** y = γx for x > 0, γα(eˣ − 1) else: dx = γg for x > 0, g·(y + γα) else. */
export const seluGrad: GradRule = {
  opType: 'Selu',
  inputsToSave: [0],
  outputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const dtype = ctx.inputDtype(0)
    const alpha = ctx.attrs.float('alpha')
    const gamma = ctx.attrs.float('gamma')
    const g = ctx.dyOrZeros(0)
    const positive = e.op('Mul', [g, e.scalar(gamma, dtype)])
    const negative = e.op('Mul', [g, e.op('Add', [ctx.output(0), e.scalar(gamma * alpha, dtype)])])
    return [e.op('Where', [e.op('Greater', [ctx.input(0), e.scalar(0, dtype)]), positive, negative])]
  },
}
