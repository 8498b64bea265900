import { attr } from '../../graph/types.ts'
import { takesAsInput } from '../../ops/attrs.ts'
import type { GradContext, GradRule } from '../rule.ts'
import { reducedAxes } from './common.ts'

/**
 * y = Π x over the axes: ∂y/∂xᵢ is the product of the other elements. Dividing y by xᵢ would fail
 * at zeros, so the product P of the non-zero elements and the count z of zeros are computed per
 * group: a non-zero xᵢ gets P/xᵢ when z = 0 (else 0), a zero xᵢ gets P when z = 1 (else 0) — exact
 * for any number of zeros.
 */
export const reduceProdGrad: GradRule = {
  opType: 'ReduceProd',
  inputsToSave: [0],
  grad(ctx) {
    const axes = reducedAxes(ctx)
    if (axes === undefined) return [ctx.dyOrZeros(0)]
    const e = ctx.emit
    const dtype = ctx.inputDtype(0)
    const x = ctx.input(0)
    const zero = e.scalar(0, dtype)
    const one = e.scalar(1, dtype)
    const isZero = e.op('Equal', [x, zero])
    const safe = e.op('Where', [isZero, one, x])
    const product = reduceProd(ctx, safe, axes)
    const zeros = e.reduceSum(e.cast(isZero, dtype), axes, true)
    const when = (count: string, value: string) => e.op('Where', [e.op('Equal', [zeros, count]), value, zero])
    const others = e.op('Where', [isZero, when(one, product), when(zero, e.op('Div', [product, safe]))])
    const kept = ctx.inputShape(0).map((d, i) => (axes.includes(i) ? 1 : d))
    return [e.op('Mul', [e.reshape(ctx.dyOrZeros(0), kept), others])]
  },
}

/** ReduceProd over `axes` keeping them, with the axes as an input from opset 18 and an attribute before. */
function reduceProd(ctx: GradContext, value: string, axes: readonly number[]): string {
  const e = ctx.emit
  const keepdims = attr.int(1)
  if (takesAsInput('ReduceProd', 'axes', ctx.opset))
    return e.op('ReduceProd', [value, e.ints(axes)], { keepdims })
  return e.op('ReduceProd', [value], { axes: attr.ints([...axes]), keepdims })
}
