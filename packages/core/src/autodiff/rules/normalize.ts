import { attr } from '../../graph/types.ts'
import type { GradContext } from '../rule.ts'
import { countOver } from './common.ts'

/** A value and its static shape. */
export interface Operand {
  value: string
  shape: number[]
}

/** x̂ = (x − μ)/σ and 1/σ (kept as a broadcastable [.., 1, ..]) over the normalised axes. */
export interface Statistics {
  xhat: string
  invStd: string
}

/** The mean over `axes`, kept as size-1 axes (ReduceMean takes its axes as an input from opset 18). */
export function meanOver(ctx: GradContext, value: string, axes: readonly number[]): string {
  const e = ctx.emit
  const keepdims = attr.int(1)
  return ctx.opset >= 18
    ? e.op('ReduceMean', [value, e.ints(axes)], { keepdims })
    : e.op('ReduceMean', [value], { axes: attr.ints([...axes]), keepdims })
}

/**
 * μ and 1/σ recomputed from x by reductions (x is input 0 unless `input` says otherwise: a reshaped
 * view of it, laid out like the gradient).
 */
export function batchStatistics(
  ctx: GradContext,
  axes: number[],
  epsilon: number,
  input: Operand = { value: ctx.input(0), shape: ctx.inputShape(0) },
): Statistics {
  const e = ctx.emit
  const x = input.value
  const centred = e.op('Sub', [x, meanOver(ctx, x, axes)])
  const variance = meanOver(ctx, e.op('Mul', [centred, centred]), axes)
  const invStd = e.op('Reciprocal', [
    e.op('Sqrt', [e.op('Add', [variance, e.scalar(epsilon, ctx.inputDtype(0))])]),
  ])
  return { xhat: e.op('Mul', [centred, invStd]), invStd }
}

/**
 * The shared backward of normalisations with batch statistics (LayerNorm, training BatchNorm,
 * Instance- and GroupNorm): with x̂ = (x − μ)/σ over `axes` and y = x̂·scale + b,
 * dx = (1/σ)·(d − mean(d) − x̂·mean(d·x̂)) where d = g·scale; `scale` broadcasts against x.
 */
export function normalizeBackward(
  ctx: GradContext,
  grad: string,
  axes: number[],
  scale: string,
  { xhat, invStd }: Statistics,
): string {
  const e = ctx.emit
  const d = e.op('Mul', [grad, scale])
  const along = meanOver(ctx, e.op('Mul', [d, xhat]), axes)
  const inner = e.op('Sub', [e.op('Sub', [d, meanOver(ctx, d, axes)]), e.op('Mul', [xhat, along])])
  return e.op('Mul', [invStd, inner])
}

/**
 * The gradients of X [N, C, …], scale and bias of a normalisation over groups of channels and all
 * spatial positions (GroupNorm; InstanceNorm is `groups` = C): X is viewed as [N, G, C/G, S], so
 * that each (n, group) block is one normalisation over axes 2 and 3. The scale and bias are per
 * channel or, for GroupNormalization-18, per group.
 */
export function groupedNormalizeGrads(
  ctx: GradContext,
  groups: number,
  perChannel: boolean,
): (string | undefined)[] {
  const e = ctx.emit
  const x = ctx.inputShape(0)
  const [n, c] = x
  if (c % groups !== 0) ctx.fail(`${c} channels do not split into ${groups} groups`)
  const layout = [
    n,
    groups,
    c / groups,
    countOver(
      x,
      x.slice(2).map((_, i) => i + 2),
    ),
  ]
  const g = e.reshape(ctx.dyOrZeros(0), layout)
  const scale = e.reshape(ctx.input(1), perChannel ? [groups, c / groups, 1] : [groups, 1, 1])
  const viewed = { value: e.reshape(ctx.input(0), layout), shape: layout }
  const stats = batchStatistics(ctx, [2, 3], ctx.attrs.float('epsilon'), viewed)
  // per channel: sum over batch and positions; per group: over the group's channels too
  const affine = (t: string, i: number) =>
    e.reshape(e.reduceSum(t, perChannel ? [0, 3] : [0, 2, 3], false), ctx.inputShape(i))
  return [
    ctx.needsGrad(0) ? e.reshape(normalizeBackward(ctx, g, [2, 3], scale, stats), x) : undefined,
    ctx.needsGrad(1) ? affine(e.op('Mul', [g, stats.xhat]), 1) : undefined,
    ctx.needsGrad(2) ? affine(g, 2) : undefined,
  ]
}
