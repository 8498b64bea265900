import { sumTo } from '../broadcast.ts'
import type { GradContext } from '../rule.ts'

/**
 * Variadic Max/Min: the gradient goes to the inputs equal to the result, split evenly between
 * ties (PyTorch's convention for maximum/minimum), each summed back over its broadcast axes.
 */
export function extremumGrad(ctx: GradContext): (string | undefined)[] {
  const e = ctx.emit
  const dtype = ctx.inputDtype(0)
  const y = ctx.output(0)
  const masks = ctx.node.inputs.map((_, i) => e.cast(e.op('Equal', [ctx.input(i), y]), dtype))
  const ties = e.addAll(masks)
  const share = e.op('Div', [ctx.dyOrZeros(0), ties])
  return masks.map((m, i) =>
    ctx.needsGrad(i) ? sumTo(e, e.op('Mul', [share, m]), ctx.outputShape(0), ctx.inputShape(i)) : undefined,
  )
}

/** Reduction to the max/min: the gradient goes to the positions equal to it, ties split evenly. */
export function reduceExtremumGrad(ctx: GradContext, axes: number[]): string {
  const e = ctx.emit
  const x = ctx.inputShape(0)
  const kept = x.map((d, i) => (axes.includes(i) ? 1 : d))
  const y = e.reshape(ctx.output(0), kept)
  const mask = e.cast(e.op('Equal', [ctx.input(0), y]), ctx.inputDtype(0))
  const ties = e.reduceSum(mask, axes, true)
  const share = e.op('Div', [e.reshape(ctx.dyOrZeros(0), kept), ties])
  return e.op('Mul', [mask, share])
}
