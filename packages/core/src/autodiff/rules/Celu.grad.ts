import type { GradRule } from '../rule.ts'
import { wherePositive } from './common.ts'

/**
 * y = max(0, x) + min(0, α(e^{x/α} − 1)): dx = g for x > 0 and g·e^{x/α} = g·(y/α + 1) else — the
 * saved output spares recomputing the exponential.
 */
export const celuGrad: GradRule = {
  opType: 'Celu',
  inputsToSave: [0],
  outputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const dtype = ctx.inputDtype(0)
    const g = ctx.dyOrZeros(0)
    const alpha = ctx.attrs.float('alpha')
    const slope = e.op('Add', [e.op('Mul', [ctx.output(0), e.scalar(1 / alpha, dtype)]), e.scalar(1, dtype)])
    return [wherePositive(ctx, ctx.input(0), g, e.op('Mul', [g, slope]))]
  },
}
