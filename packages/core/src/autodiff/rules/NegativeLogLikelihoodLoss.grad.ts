import type { GradRule } from '../rule.ts'
import { classLossParts } from './class-loss.ts'

/** loss = −Σ w·input[label]: dinput = −onehot·coefficient. */
export const negativeLogLikelihoodLossGrad: GradRule = {
  opType: 'NegativeLogLikelihoodLoss',
  inputsToSave: [1, 2],
  grad(ctx) {
    if (ctx.hasInput(2) && ctx.needsGrad(2)) ctx.fail('class weights are constants: they get no gradient')
    if (!ctx.needsGrad(0)) return []
    const e = ctx.emit
    const { oneHot, coefficient } = classLossParts(ctx, ctx.dyOrZeros(0))
    return [e.op('Neg', [e.op('Mul', [oneHot, coefficient])])]
  },
}
