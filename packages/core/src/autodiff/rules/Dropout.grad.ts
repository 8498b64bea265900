import type { GradRule } from '../rule.ts'
import { constScalar } from './common.ts'

/**
 * In inference mode (or ratio 0) Dropout is the identity. In training mode the gradient reuses the
 * forward's mask — it cannot be drawn again — so the node must output its mask: dx = g·mask/(1−ratio).
 */
export const dropoutGrad: GradRule = {
  opType: 'Dropout',
  outputsToSave: [1],
  grad(ctx) {
    const e = ctx.emit
    const g = ctx.dyOrZeros(0)
    const ratio = ctx.opset >= 12 ? (constScalar(ctx, 1, 'ratio') ?? 0.5) : ctx.attrs.float('ratio')
    const training = ctx.opset >= 12 && (constScalar(ctx, 2, 'training_mode') ?? 0) !== 0
    if (!training || ratio === 0) return [g]
    if (!ctx.node.outputs[1]) ctx.fail('training-mode Dropout needs its mask output for the gradient')
    const dtype = ctx.inputDtype(0)
    const kept = e.op('Mul', [e.cast(ctx.output(1), dtype), e.scalar(1 / (1 - ratio), dtype)])
    return [e.op('Mul', [g, kept])]
  },
}
