import type { GradRule } from '../rule.ts'

export const sinGrad: GradRule = {
  opType: 'Sin',
  inputsToSave: [0],
  grad: (ctx) => [ctx.emit.op('Mul', [ctx.dyOrZeros(0), ctx.emit.op('Cos', [ctx.input(0)])])],
}
