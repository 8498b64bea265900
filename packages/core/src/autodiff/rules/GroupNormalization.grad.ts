import type { GradRule } from '../rule.ts'
import { groupedNormalizeGrads } from './normalize.ts'

/**
 * Each (n, group) block of channels × positions normalised together. Scale and bias are taken as
 * the reference kernel takes them: per channel ([C], GroupNormalization-21) when they have C
 * elements, else per group ([num_groups], GroupNormalization-18).
 */
export const groupNormalizationGrad: GradRule = {
  opType: 'GroupNormalization',
  inputsToSave: [0, 1],
  grad(ctx) {
    const groups = ctx.attrs.int('num_groups')
    const channels = ctx.inputShape(0)[1]
    const scale = ctx.inputShape(1).reduce((a, b) => a * b, 1)
    if (scale !== channels && scale !== groups)
      ctx.fail(`scale has ${scale} elements: expected ${channels} (per channel) or ${groups} (per group)`)
    return groupedNormalizeGrads(ctx, groups, scale === channels)
  },
}
