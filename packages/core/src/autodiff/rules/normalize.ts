import type { GradContext } from '../rule.ts'
import { countOver } from './common.ts'

/**
 * The shared backward of normalisations with batch statistics (LayerNorm, training BatchNorm):
 * with x̂ = (x − μ)/σ over `axes` and y = x̂·scale + b,
 * dx = (1/σ)·(d − mean(d) − x̂·mean(d·x̂)) where d = g·scale.
 * μ and 1/σ are recomputed from x (input 0); `scale` broadcasts against x.
 */
export function normalizeBackward(
  ctx: GradContext,
  grad: string,
  axes: number[],
  scale: string,
  epsilon: number,
): { xhat: string; dx: () => string } {
  const e = ctx.emit
  const dtype = ctx.inputDtype(0)
  const inv = e.scalar(1 / countOver(ctx.inputShape(0), axes), dtype)
  const mean = (t: string) => e.op('Mul', [e.reduceSum(t, axes, true), inv])
  const x = ctx.input(0)
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
