import { sumTo } from '../broadcast.ts'
import type { GradRule } from '../rule.ts'
import { normAxis } from './common.ts'
import { normalizeBackward } from './normalize.ts'

/**
 * Normalisation over the axes from `axis` on. Mean and 1/σ are recomputed from x in the backward
 * (two reductions) rather than saved, so the forward node may omit its optional outputs.
 */
export const layerNormalizationGrad: GradRule = {
  opType: 'LayerNormalization',
  inputsToSave: [0, 1],
  grad(ctx) {
    if (ctx.dy(1) !== undefined || ctx.dy(2) !== undefined) {
      ctx.fail('gradients through the Mean/InvStdDev outputs are not supported')
    }
    const x = ctx.inputShape(0)
    const axis = normAxis(ctx, ctx.attrs.int('axis'), x.length)
    const axes = Array.from({ length: x.length - axis }, (_, i) => axis + i)
    const g = ctx.dyOrZeros(0)
    const n = normalizeBackward(ctx, g, axes, ctx.input(1), ctx.attrs.float('epsilon'))
    const e = ctx.emit
    return [
      ctx.needsGrad(0) ? n.dx() : undefined,
      ctx.needsGrad(1) ? sumTo(e, e.op('Mul', [g, n.xhat]), x, ctx.inputShape(1)) : undefined,
      ctx.hasInput(2) && ctx.needsGrad(2) ? sumTo(e, g, x, ctx.inputShape(2)) : undefined,
    ]
  },
}
