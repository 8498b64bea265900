import type { GradRule } from '../rule.ts'

/** Every input position gets g / (spatial size). */
export const globalAveragePoolGrad: GradRule = {
  opType: 'GlobalAveragePool',
  grad(ctx) {
    const e = ctx.emit
    const x = ctx.inputShape(0)
    const area = x.slice(2).reduce((a, b) => a * b, 1)
    const scaled = e.op('Mul', [ctx.dyOrZeros(0), e.scalar(1 / area, ctx.inputDtype(0))])
    return [e.op('Expand', [scaled, e.ints(x)])]
  },
}
