import type { GradRule } from '../rule.ts'
import { unreduce } from './common.ts'

/** y = Σx²: dx = 2x·g. */
export const reduceSumSquareGrad: GradRule = {
  opType: 'ReduceSumSquare',
  inputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const g = unreduce(ctx)(ctx.dyOrZeros(0))
    return [e.op('Mul', [e.op('Mul', [ctx.input(0), e.scalar(2, ctx.inputDtype(0))]), g])]
  },
}
