import { attr } from '../../graph/types.ts'
import type { GradRule } from '../rule.ts'

/** The adjoint of a running sum is the running sum in the other direction. */
export const cumSumGrad: GradRule = {
  opType: 'CumSum',
  inputsToSave: [1],
  grad(ctx) {
    const { int } = ctx.attrs
    const reverse = int('reverse') === 1 ? 0 : 1
    const g = ctx.emit.op('CumSum', [ctx.dyOrZeros(0), ctx.input(1)], {
      exclusive: attr.int(int('exclusive')),
      reverse: attr.int(reverse),
    })
    return [g]
  },
}
