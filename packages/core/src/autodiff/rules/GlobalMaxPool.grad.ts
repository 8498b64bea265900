import type { GradRule } from '../rule.ts'
import { reduceExtremumGrad } from './extremum.ts'

/** The gradient goes to each channel's maximum (ties split evenly). */
export const globalMaxPoolGrad: GradRule = {
  opType: 'GlobalMaxPool',
  inputsToSave: [0],
  outputsToSave: [0],
  grad(ctx) {
    const rank = ctx.inputShape(0).length
    return [
      reduceExtremumGrad(
        ctx,
        Array.from({ length: rank - 2 }, (_, i) => i + 2),
      ),
    ]
  },
}
