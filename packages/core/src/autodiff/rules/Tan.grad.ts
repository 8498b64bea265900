import type { GradRule } from '../rule.ts'

/** y = tan x: dx = g·(1 + y²). */
export const tanGrad: GradRule = {
  opType: 'Tan',
  outputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const y = ctx.output(0)
    const slope = e.op('Add', [e.scalar(1, ctx.inputDtype(0)), e.op('Mul', [y, y])])
    return [e.op('Mul', [ctx.dyOrZeros(0), slope])]
  },
}
