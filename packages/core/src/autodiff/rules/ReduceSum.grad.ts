import type { GradRule } from '../rule.ts'
import { unreduce } from './common.ts'

/** The gradient is broadcast back over the reduced axes. */
export const reduceSumGrad: GradRule = {
  opType: 'ReduceSum',
  grad: (ctx) => [unreduce(ctx)(ctx.dyOrZeros(0))],
}
