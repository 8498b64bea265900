import type { GradRule } from '../rule.ts'
import { reductionRule } from './common.ts'

/** y = Σx²: dx = 2x·g. */
export const reduceSumSquareGrad: GradRule = reductionRule(
  'ReduceSumSquare',
  { inputsToSave: [0] },
  (ctx, back) => {
    const e = ctx.emit
    const g = back(ctx.dyOrZeros(0))
    return e.op('Mul', [e.op('Mul', [ctx.input(0), e.scalar(2, ctx.inputDtype(0))]), g])
  },
)
