import type { GradRule } from '../rule.ts'

/** y = ln(1 + eˣ): dx = g·σ(x). */
export const softplusGrad: GradRule = {
  opType: 'Softplus',
  inputsToSave: [0],
  grad: (ctx) => [ctx.emit.op('Mul', [ctx.dyOrZeros(0), ctx.emit.op('Sigmoid', [ctx.input(0)])])],
}
