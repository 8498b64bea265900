import type { GradRule } from '../rule.ts'
import { reshapeBack } from './common.ts'

/** Unsqueeze only rearranges the view: the gradient is reshaped back to the input's shape. */
export const unsqueezeGrad: GradRule = {
  opType: 'Unsqueeze',
  grad: reshapeBack,
}
