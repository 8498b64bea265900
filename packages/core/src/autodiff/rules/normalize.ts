import type { GradContext } from '../rule.ts'
import { countOver } from './common.ts'

/** A value and its static shape. */
export interface Operand {
  value: string
  shape: number[]
}

/**
 * The shared backward of normalisations with batch statistics (LayerNorm, training BatchNorm,
 * Instance- and GroupNorm): with x̂ = (x − μ)/σ over `axes` and y = x̂·scale + b,
 * dx = (1/σ)·(d − mean(d) − x̂·mean(d·x̂)) where d = g·scale.
 * μ and 1/σ are recomputed from x (input 0 unless `input` says otherwise: a reshaped view of it,
 * laid out like `grad`); `scale` broadcasts against x.
 */
export function normalizeBackward(
  ctx: GradContext,
  grad: string,
  axes: number[],
  scale: string,
  epsilon: number,
  input: Operand = { value: ctx.input(0), shape: ctx.inputShape(0) },
): { xhat: string; dx: () => string } {
  const e = ctx.emit
  const dtype = ctx.inputDtype(0)
  const inv = e.scalar(1 / countOver(input.shape, axes), dtype)
  const mean = (t: string) => e.op('Mul', [e.reduceSum(t, axes, true), inv])
  const x = input.value
  const centred = e.op('Sub', [x, mean(x)])
  const variance = mean(e.op('Mul', [centred, centred]))
  const invStd = e.op('Reciprocal', [e.op('Sqrt', [e.op('Add', [variance, e.scalar(epsilon, dtype)])])])
  const xhat = e.op('Mul', [centred, invStd])
  const dx = () => {
    const d = e.op('Mul', [grad, scale])
    const inner = e.op('Sub', [e.op('Sub', [d, mean(d)]), e.op('Mul', [xhat, mean(e.op('Mul', [d, xhat]))])])
    return e.op('Mul', [invStd, inner])
  }
  return { xhat, dx }
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
  const norm = normalizeBackward(ctx, g, [2, 3], scale, ctx.attrs.float('epsilon'), viewed)
  // per channel: sum over batch and positions; per group: over the group's channels too
  const affine = (t: string, i: number) =>
    e.reshape(e.reduceSum(t, perChannel ? [0, 3] : [0, 2, 3], false), ctx.inputShape(i))
  return [
    ctx.needsGrad(0) ? e.reshape(norm.dx(), x) : undefined,
    ctx.needsGrad(1) ? affine(e.op('Mul', [g, norm.xhat]), 1) : undefined,
    ctx.needsGrad(2) ? affine(g, 2) : undefined,
  ]
}
