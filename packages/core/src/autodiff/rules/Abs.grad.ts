import type { GradRule } from '../rule.ts'

/** dx = g·sign(x) (0 at 0, as PyTorch). */
export const absGrad: GradRule = {
  opType: 'Abs',
  inputsToSave: [0],
  grad: (ctx) => [ctx.emit.op('Mul', [ctx.dyOrZeros(0), ctx.emit.op('Sign', [ctx.input(0)])])],
}
