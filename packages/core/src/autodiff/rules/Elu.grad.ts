import type { GradRule } from '../rule.ts'

/** y = x for x > 0, α(eˣ − 1) else: dx = g for x > 0, g·(y + α) else. */
export const eluGrad: GradRule = {
  opType: 'Elu',
  inputsToSave: [0],
  outputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const dtype = ctx.inputDtype(0)
    const g = ctx.dyOrZeros(0)
    const negative = e.op('Mul', [g, e.op('Add', [ctx.output(0), e.scalar(ctx.attrs.float('alpha'), dtype)])])
    return [e.op('Where', [e.op('Greater', [ctx.input(0), e.scalar(0, dtype)]), g, negative])]
  },
}
