import type { GradRule } from '../rule.ts'
import { reshapeBack } from './common.ts'

/** Reshape only rearranges the view: the gradient is reshaped back to the input's shape. */
export const reshapeGrad: GradRule = {
  opType: 'Reshape',
  grad: reshapeBack,
}
