import type { GradRule } from '../rule.ts'

/** The gradient goes through the inverse permutation. */
export const transposeGrad: GradRule = {
  opType: 'Transpose',
  grad(ctx) {
    const rank = ctx.inputShape(0).length
    const perm = ctx.attrs.ints('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i)
    const inverse = new Array<number>(rank)
    perm.forEach((p, i) => {
      inverse[p < 0 ? p + rank : p] = i
    })
    return [ctx.emit.transpose(ctx.dyOrZeros(0), inverse)]
  },
}
