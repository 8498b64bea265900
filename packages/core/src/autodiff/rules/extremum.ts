import type { GradContext, GradRule } from '../rule.ts'
import { broadcastGrads, reducedAxes } from './common.ts'

/** The rule of variadic Max or Min. */
export function extremumRule(opType: 'Max' | 'Min'): GradRule {
  return { opType, inputsToSave: 'all', outputsToSave: [0], grad: extremumGrad }
}

/**
 * The gradient goes to the inputs equal to the result, split evenly between ties (PyTorch's
 * convention for maximum/minimum), each summed back over its broadcast axes.
 */
function extremumGrad(ctx: GradContext): (string | undefined)[] {
  const e = ctx.emit
  const dtype = ctx.inputDtype(0)
  const y = ctx.output(0)
  const masks = ctx.node.inputs.map((_, i) => e.cast(e.op('Equal', [ctx.input(i), y]), dtype))
  const share = e.op('Div', [ctx.dyOrZeros(0), e.addAll(masks)])
  return broadcastGrads(
    ctx,
    masks.map((mask) => (g) => e.op('Mul', [g, mask])),
    share,
  )
}

/** The rule of ReduceMax or ReduceMin (an identity under noop_with_empty_axes with no axes). */
export function reduceExtremumRule(opType: 'ReduceMax' | 'ReduceMin'): GradRule {
  return {
    opType,
    inputsToSave: [0],
    outputsToSave: [0],
    grad(ctx) {
      const axes = reducedAxes(ctx)
      return [axes === undefined ? ctx.dyOrZeros(0) : reduceExtremumGrad(ctx, axes)]
    },
  }
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
