import type { GradRule } from '../rule.ts'
import { batchStatistics, normalizeBackward } from './normalize.ts'

/**
 * Training mode (batch statistics over every axis but the channel axis 1) shares LayerNorm's
 * backward. Inference mode uses the running statistics, constants to this step: dx = g·scale/σ.
 * Running statistics get no gradient (their outputs are updates, not activations).
 */
export const batchNormalizationGrad: GradRule = {
  opType: 'BatchNormalization',
  inputsToSave: [0, 1, 3, 4],
  grad(ctx) {
    const e = ctx.emit
    const x = ctx.inputShape(0)
    const channels = x[1]
    const perChannel = [channels, ...x.slice(2).map(() => 1)]
    const axes = [0, ...x.slice(2).map((_, i) => i + 2)]
    const dtype = ctx.inputDtype(0)
    const epsilon = ctx.attrs.float('epsilon')
    const present = ctx.node.outputs.filter((o) => o !== '').length
    const training = ctx.opset >= 14 ? ctx.attrs.int('training_mode') === 1 : present > 1
    const g = ctx.dyOrZeros(0)
    const scale = () => e.reshape(ctx.input(1), perChannel)
    let dx: string | undefined
    let xhat: string
    if (training) {
      const stats = batchStatistics(ctx, axes, epsilon)
      xhat = stats.xhat
      if (ctx.needsGrad(0)) dx = normalizeBackward(ctx, g, axes, scale(), stats)
    } else {
      if (ctx.needsGrad(3) || ctx.needsGrad(4))
        ctx.fail('inference-mode running statistics must not need gradients')
      const invStd = e.op('Reciprocal', [
        e.op('Sqrt', [e.op('Add', [e.reshape(ctx.input(4), perChannel), e.scalar(epsilon, dtype)])]),
      ])
      xhat = e.op('Mul', [e.op('Sub', [ctx.input(0), e.reshape(ctx.input(3), perChannel)]), invStd])
      if (ctx.needsGrad(0)) dx = e.op('Mul', [g, e.op('Mul', [scale(), invStd])])
    }
    return [
      dx,
      ctx.needsGrad(1) ? e.reduceSum(e.op('Mul', [g, xhat]), axes, false) : undefined,
      ctx.needsGrad(2) ? e.reduceSum(g, axes, false) : undefined,
    ]
  },
}
