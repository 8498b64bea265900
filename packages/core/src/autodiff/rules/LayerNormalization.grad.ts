import { attr } from '../../graph/types.ts'
import { sumTo } from '../broadcast.ts'
import type { GradContext, GradRule } from '../rule.ts'
import { numel } from '../../tensor.ts'
import { normAxis } from './common.ts'
import { normalizeBackward, type Statistics } from './normalize.ts'

/**
 * Normalisation over the axes from `axis` on. x̂ and 1/σ are recomputed in the backward rather than
 * saved (so the forward node may omit its optional outputs), by one LayerNormalization with unit
 * scale: one kernel where reductions take seven, and the same x̂ as the forward's. onnxruntime
 * spends as much host time launching a node as the GPU spends on most of them, so nodes count.
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
    const e = ctx.emit
    const stats = unitLayerNorm(ctx, axis)
    return [
      ctx.needsGrad(0) ? normalizeBackward(ctx, g, axes, ctx.input(1), stats) : undefined,
      ctx.needsGrad(1) ? sumTo(e, e.op('Mul', [g, stats.xhat]), x, ctx.inputShape(1)) : undefined,
      ctx.hasInput(2) && ctx.needsGrad(2) ? sumTo(e, g, x, ctx.inputShape(2)) : undefined,
    ]
  },
}

/**
 * x̂ and 1/σ of the forward node's input: its LayerNormalization with scale 1 and no bias, run on a
 * [rows, normalised] view of x. The view keeps onnxruntime's SkipLayerNormFusion off this node: fused
 * with the residual Add before it, the node loses its InvStdDev output (onnxruntime 1.29 then fails
 * the run with "Missing Input").
 */
function unitLayerNorm(ctx: GradContext, axis: number): Statistics {
  const e = ctx.emit
  const x = ctx.inputShape(0)
  const dtype = ctx.inputDtype(0)
  const lead = x.slice(0, axis)
  const normalised = numel(x.slice(axis))
  // a view of another rank than x's, so that it is never a no-op reshape an optimizer may drop
  const view = x.length === 2 ? [1, numel(lead), normalised] : [numel(lead), normalised]
  const [xhat, , invStd] = e.opN(
    'LayerNormalization',
    [e.reshape(ctx.input(0), view), e.filled([normalised], 1, dtype)],
    3,
    {
      axis: attr.int(view.length - 1),
      epsilon: attr.float(ctx.attrs.float('epsilon')),
      stash_type: attr.int(ctx.attrs.int('stash_type')),
    },
  )
  // InvStdDev comes in the stash type (float32) whatever x's type is
  const std = e.reshape(invStd, [...lead, ...x.slice(axis).map(() => 1)])
  return { xhat: e.reshape(xhat, x), invStd: dtype === 'float32' ? std : e.cast(std, dtype) }
}
