import { type Attribute, attr } from '../../graph/types.ts'
import type { GradContext, GradRule } from '../rule.ts'

/** The ops of one scatter family (ScatterElements with GatherElements, ScatterND with GatherND). */
export interface ScatterOps {
  /** `value` (data's shape) read at the saved indices: the updates' shape */
  take(ctx: GradContext, value: string): string
  /** `updates` written into `data` at the saved indices, combined by `reduction` */
  put(ctx: GradContext, data: string, updates: string, reduction?: string): string
}

type Grads = [data: string | undefined, updates: string | undefined]

/**
 * The rule of ScatterElements or ScatterND, for every reduction. 'add': data's gradient is g, the
 * updates' g taken at the indices. 'none': the written positions forget data, so data's gradient is
 * g with zeros written there; the updates' is g taken at the indices (ONNX leaves repeated indices
 * undefined under 'none'). 'mul', 'max' and 'min' below. Each reads only what its reduction needs.
 */
export function scatterRule(opType: 'ScatterElements' | 'ScatterND', ops: ScatterOps): GradRule {
  return {
    opType,
    inputsToSave: [0, 1, 2],
    outputsToSave: [0],
    grad(ctx) {
      const [dData, dUpdates] = reductionGrads(ctx, ops, ctx.attrs.string('reduction'))
      return [ctx.needsGrad(0) ? dData : undefined, undefined, ctx.needsGrad(2) ? dUpdates : undefined]
    },
  }
}

function reductionGrads(ctx: GradContext, ops: ScatterOps, reduction: string): Grads {
  const g = ctx.dyOrZeros(0)
  if (reduction === 'none') return [ops.put(ctx, g, zerosLikeUpdates(ctx)), ops.take(ctx, g)]
  if (reduction === 'add') return [g, ops.take(ctx, g)]
  if (reduction === 'mul') return productGrads(ctx, ops, g)
  if (reduction === 'max' || reduction === 'min') return extremumGrads(ctx, ops, g)
  return ctx.fail(`no gradient for reduction '${reduction}'`)
}

const zerosLikeUpdates = (ctx: GradContext) => ctx.emit.zeros(ctx.inputShape(2), ctx.inputDtype(2))
const onesLikeData = (ctx: GradContext) =>
  ctx.emit.op('Expand', [ctx.emit.scalar(1, ctx.inputDtype(0)), ctx.emit.ints(ctx.inputShape(0))])

/**
 * 'mul': y[t] = data[t]·Π uₖ over the updates written to t. data's gradient is g·Π uₖ; update k's
 * is g·data·Π of the others at its target, from the product Q of the non-zero updates there and
 * their count Z of zeros, so that a zero update is no division by zero (ReduceProd's way).
 */
function productGrads(ctx: GradContext, ops: ScatterOps, g: string): Grads {
  const e = ctx.emit
  const dtype = ctx.inputDtype(2)
  const [zero, one] = [e.scalar(0, dtype), e.scalar(1, dtype)]
  const u = ctx.input(2)
  const isZero = e.op('Equal', [u, zero])
  const safe = e.op('Where', [isZero, one, u])
  const q = ops.take(ctx, ops.put(ctx, onesLikeData(ctx), safe, 'mul'))
  const z = ops.take(ctx, ops.put(ctx, e.zeros(ctx.inputShape(0), dtype), e.cast(isZero, dtype), 'add'))
  const when = (count: string, value: string) => e.op('Where', [e.op('Equal', [z, count]), value, zero])
  const others = e.op('Where', [isZero, when(one, q), when(zero, e.op('Div', [q, safe]))])
  const all = ops.put(ctx, onesLikeData(ctx), u, 'mul')
  const dData = e.op('Mul', [g, all])
  const dUpdates = e.op('Mul', [ops.take(ctx, e.op('Mul', [g, ctx.input(0)])), others])
  return [dData, dUpdates]
}

/**
 * 'max' / 'min': the gradient goes to whichever of data and the updates written to a position
 * equal the result, split evenly between ties (as PyTorch's scatter_reduce amax/amin does).
 */
function extremumGrads(ctx: GradContext, ops: ScatterOps, g: string): Grads {
  const e = ctx.emit
  const dtype = ctx.inputDtype(0)
  const y = ctx.output(0)
  const fromData = e.cast(e.op('Equal', [ctx.input(0), y]), dtype)
  const fromUpdates = e.cast(e.op('Equal', [ctx.input(2), ops.take(ctx, y)]), dtype)
  const ties = ops.put(ctx, fromData, fromUpdates, 'add')
  const share = e.op('Div', [g, ties])
  return [e.op('Mul', [share, fromData]), e.op('Mul', [ops.take(ctx, share), fromUpdates])]
}

/** The `reduction` attribute of a scatter the gradient writes (none when it replaces). */
export const reductionAttr = (reduction: string | undefined): Record<string, Attribute> =>
  reduction === undefined ? {} : { reduction: attr.string(reduction) }
