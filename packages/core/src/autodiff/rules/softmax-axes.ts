import type { GradContext } from '../rule.ts'
import { normAxis } from './common.ts'

/**
 * The axes a Softmax/LogSoftmax normalises over: one axis from opset 13; before that the input was
 * coerced to 2-D at `axis` (default 1), so every axis from `axis` on.
 */
export function softmaxAxes(ctx: GradContext): number[] {
  const rank = ctx.inputShape(0).length
  if (ctx.opset >= 13) return [normAxis(ctx, ctx.attrs.int('axis'), rank)]
  const from = normAxis(ctx, ctx.attrs.has('axis') ? ctx.attrs.int('axis') : 1, rank)
  return Array.from({ length: rank - from }, (_, i) => from + i)
}
