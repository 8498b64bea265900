import { isFloat } from '../../tensor.ts'
import type { GradRule } from '../rule.ts'

/** As Cast: float ↔ float passes the gradient back in the input's dtype; the target gets none. */
export const castLikeGrad: GradRule = {
  opType: 'CastLike',
  grad(ctx) {
    const from = ctx.inputDtype(0)
    const to = ctx.outputDtype(0)
    if (!isFloat(from) || !isFloat(to)) return [undefined]
    const g = ctx.dyOrZeros(0)
    return [from === to ? g : ctx.emit.cast(g, from), undefined]
  },
}
