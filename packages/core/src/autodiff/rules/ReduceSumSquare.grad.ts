import type { GradRule } from '../rule.ts'
import { expandReduced, reducedAxes } from './common.ts'

/** y = Σx²: dx = 2x·g. */
export const reduceSumSquareGrad: GradRule = {
  opType: 'ReduceSumSquare',
  inputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const axes = reducedAxes(ctx)
    const g = ctx.dyOrZeros(0)
    const twoX = e.op('Mul', [ctx.input(0), e.scalar(2, ctx.inputDtype(0))])
    return [e.op('Mul', [twoX, axes === undefined ? g : expandReduced(ctx, g, axes)])]
  },
}
