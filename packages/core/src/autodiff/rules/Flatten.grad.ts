import type { GradRule } from '../rule.ts'
import { reshapeBack } from './common.ts'

/** Flatten only rearranges the view: the gradient is reshaped back to the input's shape. */
export const flattenGrad: GradRule = {
  opType: 'Flatten',
  grad: reshapeBack,
}
