import type { GradRule } from '../rule.ts'

/** y = cosh x: dx = g·sinh x. */
export const coshGrad: GradRule = {
  opType: 'Cosh',
  inputsToSave: [0],
  grad: (ctx) => [ctx.emit.op('Mul', [ctx.dyOrZeros(0), ctx.emit.op('Sinh', [ctx.input(0)])])],
}
