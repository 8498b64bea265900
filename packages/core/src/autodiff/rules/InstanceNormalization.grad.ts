import type { GradRule } from '../rule.ts'
import { groupedNormalizeGrads } from './normalize.ts'

/**
 * Each (n, c) plane normalised over its spatial positions, scale and bias per channel: GroupNorm's
 * backward with one channel per group. Mean and 1/σ are recomputed from x, as for LayerNorm.
 */
export const instanceNormalizationGrad: GradRule = {
  opType: 'InstanceNormalization',
  inputsToSave: [0, 1],
  grad: (ctx) => groupedNormalizeGrads(ctx, ctx.inputShape(0)[1], true),
}
