import type { GradRule } from '../rule.ts'

export const cosGrad: GradRule = {
  opType: 'Cos',
  inputsToSave: [0],
  grad: (ctx) => [
    ctx.emit.op('Neg', [ctx.emit.op('Mul', [ctx.dyOrZeros(0), ctx.emit.op('Sin', [ctx.input(0)])])]),
  ],
}
