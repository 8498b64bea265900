import { isFloat } from '../../tensor.ts'
import type { GradRule } from '../rule.ts'

/** float ↔ float casts pass the gradient back in the input's dtype; casts to integers pass none. */
export const castGrad: GradRule = {
  opType: 'Cast',
  grad(ctx) {
    const from = ctx.inputDtype(0)
    const to = ctx.node.outputs.length > 0 ? ctx.outputDtype(0) : from
    if (!isFloat(from) || !isFloat(to)) return [undefined]
    const g = ctx.dyOrZeros(0)
    return [from === to ? g : ctx.emit.cast(g, from)]
  },
}
