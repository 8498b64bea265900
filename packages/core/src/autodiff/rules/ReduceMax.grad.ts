import type { GradRule } from '../rule.ts'
import { reducedAxes } from './common.ts'
import { reduceExtremumGrad } from './extremum.ts'

export const reduceMaxGrad: GradRule = {
  opType: 'ReduceMax',
  inputsToSave: [0],
  outputsToSave: [0],
  grad(ctx) {
    const axes = reducedAxes(ctx)
    return [axes === undefined ? ctx.dyOrZeros(0) : reduceExtremumGrad(ctx, axes)]
  },
}
