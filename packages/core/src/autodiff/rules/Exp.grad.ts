import type { GradRule } from '../rule.ts'

/** y = eˣ: dx = g·y. */
export const expGrad: GradRule = {
  opType: 'Exp',
  outputsToSave: [0],
  grad: (ctx) => [ctx.emit.op('Mul', [ctx.dyOrZeros(0), ctx.output(0)])],
}
