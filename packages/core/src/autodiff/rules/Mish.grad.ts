import type { GradRule } from '../rule.ts'

/**
 * y = x·tanh(softplus x), t = tanh(softplus x): dx = g·(t + x·σ(x)·(1 − t²)), since
 * softplus' = σ. t is recomputed rather than saved (y/x would divide by zero at x = 0).
 */
export const mishGrad: GradRule = {
  opType: 'Mish',
  inputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const x = ctx.input(0)
    const t = e.op('Tanh', [e.op('Softplus', [x])])
    const sech2 = e.op('Sub', [e.scalar(1, ctx.inputDtype(0)), e.op('Mul', [t, t])])
    const slope = e.op('Add', [t, e.op('Mul', [e.op('Mul', [x, e.op('Sigmoid', [x])]), sech2])])
    return [e.op('Mul', [ctx.dyOrZeros(0), slope])]
  },
}
