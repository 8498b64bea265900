import type { GradRule } from '../rule.ts'

export const negGrad: GradRule = {
  opType: 'Neg',
  grad: (ctx) => [ctx.emit.op('Neg', [ctx.dyOrZeros(0)])],
}
