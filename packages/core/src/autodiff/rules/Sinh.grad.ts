import type { GradRule } from '../rule.ts'

/** y = sinh x: dx = g·cosh x. */
export const sinhGrad: GradRule = {
  opType: 'Sinh',
  inputsToSave: [0],
  grad: (ctx) => [ctx.emit.op('Mul', [ctx.dyOrZeros(0), ctx.emit.op('Cosh', [ctx.input(0)])])],
}
