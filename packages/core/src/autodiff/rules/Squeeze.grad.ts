import type { GradRule } from '../rule.ts'
import { reshapeBack } from './common.ts'

/** Squeeze only rearranges the view: the gradient is reshaped back to the input's shape. */
export const squeezeGrad: GradRule = {
  opType: 'Squeeze',
  grad: reshapeBack,
}
