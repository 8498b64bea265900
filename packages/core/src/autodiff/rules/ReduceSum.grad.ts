import type { GradRule } from '../rule.ts'
import { reductionRule } from './common.ts'

/** The gradient is broadcast back over the reduced axes. */
export const reduceSumGrad: GradRule = reductionRule('ReduceSum', {}, (ctx, back) => back(ctx.dyOrZeros(0)))
