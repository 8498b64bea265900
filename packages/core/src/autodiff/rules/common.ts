/** Small pieces that several gradient rules share. */
import { takesAsInput } from '../../ops/attrs.ts'
import { sumTo } from '../broadcast.ts'
import type { GradContext, GradRule } from '../rule.ts'

/** One input's gradient at the output's shape, from the gradient reaching the output. */
export type BroadcastTerm = (g: string) => string

/**
 * The input gradients of an elementwise op with numpy broadcasting (Add, Div, Where, Max…):
 * `terms[i](g)` is input i's gradient at the output's shape, summed back over the axes that
 * broadcasting stretched. An input that wants no gradient, or has no term, gets none. `g` is the
 * gradient reaching the output unless the rule scales it first (Mean).
 */
export function broadcastGrads(
  ctx: GradContext,
  terms: readonly (BroadcastTerm | undefined)[],
  grad: string = ctx.dyOrZeros(0),
): (string | undefined)[] {
  const y = ctx.outputShape(0)
  return terms.map((term, i) =>
    term !== undefined && ctx.needsGrad(i) ? sumTo(ctx.emit, term(grad), y, ctx.inputShape(i)) : undefined,
  )
}

/** `ifPositive` where `x` > 0 and `otherwise` elsewhere: the two sides of a piecewise activation. */
export function wherePositive(
  ctx: GradContext,
  input: string,
  ifPositive: string,
  otherwise: string,
): string {
  const e = ctx.emit
  return e.op('Where', [e.op('Greater', [input, e.scalar(0, ctx.inputDtype(0))]), ifPositive, otherwise])
}

/** The gradient of an op that only reshapes input 0 (Reshape, Flatten, Squeeze, Unsqueeze). */
export function reshapeBack(ctx: GradContext): (string | undefined)[] {
  if (!ctx.needsGrad(0)) return []
  return [ctx.emit.reshape(ctx.dyOrZeros(0), ctx.inputShape(0))]
}

/** A possibly negative axis made non-negative for `rank`. */
export function normAxis(ctx: GradContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis
  if (a < 0 || a >= rank) ctx.fail(`axis ${axis} out of range for rank ${rank}`)
  return a
}

/** The integer values of a compile-time constant input (axes, shape, starts…). */
export function constInts(ctx: GradContext, index: number, what: string): number[] {
  const t = ctx.constant(index)
  if (t === undefined) ctx.fail(`${what} (input ${index}) must be a constant for autodiff`)
  return Array.from(t.data as ArrayLike<number | bigint>, Number)
}

/** A scalar float constant input (ratio, min, max), or undefined when absent. */
export function constScalar(ctx: GradContext, index: number, what: string): number | undefined {
  if (!ctx.hasInput(index)) return undefined
  const t = ctx.constant(index)
  if (t === undefined || t.data.length !== 1) ctx.fail(`${what} (input ${index}) must be a constant scalar`)
  return Number(t.data[0])
}

/**
 * The axes a reduction (ReduceSum, ReduceMean…) reduced, non-negative and sorted; `undefined` for
 * noop_with_empty_axes with no axes (the op is an identity).
 */
export function reducedAxes(ctx: GradContext): number[] | undefined {
  const rank = ctx.inputShape(0).length
  const asInput = takesAsInput(ctx.node.opType, 'axes', ctx.opset)
  let axes: number[] | undefined
  if (asInput) axes = ctx.hasInput(1) ? constInts(ctx, 1, 'axes') : undefined
  else axes = ctx.attrs.ints('axes')
  if (axes === undefined || axes.length === 0) {
    if (ctx.attrs.int('noop_with_empty_axes') === 1) return undefined
    return Array.from({ length: rank }, (_, i) => i)
  }
  return [...new Set(axes.map((a) => normAxis(ctx, a, rank)))].sort((a, b) => a - b)
}

/** `g` (the reduced shape) broadcast back over the input shape of a reduction. */
function expandReduced(ctx: GradContext, g: string, axes: readonly number[]): string {
  const x = ctx.inputShape(0)
  const kept = x.map((d, i) => (axes.includes(i) ? 1 : d))
  return ctx.emit.op('Expand', [ctx.emit.reshape(g, kept), ctx.emit.ints(x)])
}

/** Broadcasts a value of a reduction's output shape back over its input (as is when nothing was reduced). */
export type Unreduce = (t: string) => string

/**
 * The rule of a reduction (ReduceSum, ReduceL2…) whose input gradient is `dx(ctx, back, axes)`: the
 * formula is written at the output's shape, `back` broadcasts it over the input, and `axes` are the
 * reduced ones (empty when the op is an identity).
 */
export function reductionRule(
  opType: string,
  saves: Pick<GradRule, 'inputsToSave' | 'outputsToSave'>,
  dx: (ctx: GradContext, back: Unreduce, axes: readonly number[]) => string,
): GradRule {
  const grad: GradRule['grad'] = (ctx) => {
    const axes = reducedAxes(ctx) ?? []
    const back: Unreduce = (t) => (axes.length === 0 ? t : expandReduced(ctx, t, axes))
    return [dx(ctx, back, axes)]
  }
  return { opType, ...saves, grad }
}

/** Element count of `shape` over `axes`. */
export function countOver(shape: readonly number[], axes: readonly number[]): number {
  return axes.reduce((n, a) => n * shape[a], 1)
}
