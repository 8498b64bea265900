import { attr } from '../../graph/types.ts'
import type { GradRule } from '../rule.ts'
import { classLossParts } from './class-loss.ts'

/**
 * loss = −Σ w·log softmax(scores)[label]: dscores = (softmax(scores) − onehot)·coefficient, where
 * the coefficient carries the class weights, the ignore mask and the mean's denominator. A gradient
 * reaching the optional log_prob output adds the LogSoftmax backward.
 */
export const softmaxCrossEntropyLossGrad: GradRule = {
  opType: 'SoftmaxCrossEntropyLoss',
  inputsToSave: [0, 1, 2],
  grad(ctx) {
    if (ctx.hasInput(2) && ctx.needsGrad(2)) ctx.fail('class weights are constants: they get no gradient')
    if (!ctx.needsGrad(0)) return []
    const e = ctx.emit
    const probs = e.op('Softmax', [ctx.input(0)], { axis: attr.int(1) })
    let d: string | undefined
    const g = ctx.dy(0)
    if (g !== undefined) {
      const { oneHot, coefficient } = classLossParts(ctx, g)
      d = e.op('Mul', [e.op('Sub', [probs, oneHot]), coefficient])
    }
    const gLogProb = ctx.dy(1)
    if (gLogProb !== undefined) {
      const total = e.reduceSum(gLogProb, [1], true)
      const viaLogProb = e.op('Sub', [gLogProb, e.op('Mul', [probs, total])])
      d = d === undefined ? viaLogProb : e.op('Add', [d, viaLogProb])
    }
    return [d]
  },
}
