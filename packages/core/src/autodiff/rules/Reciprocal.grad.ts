import type { GradRule } from '../rule.ts'

/** y = 1/x: dx = −g·y². */
export const reciprocalGrad: GradRule = {
  opType: 'Reciprocal',
  outputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const y = ctx.output(0)
    return [e.op('Neg', [e.op('Mul', [ctx.dyOrZeros(0), e.op('Mul', [y, y])])])]
  },
}
