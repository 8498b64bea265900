import type { GradContext, GradRule } from '../rule.ts'
import { wherePositive } from './common.ts'

/**
 * The rule of Elu or Selu (Elu is Selu with γ = 1): y = γx for x > 0, γα(eˣ − 1) else, so
 * dx = γg for x > 0 and g·(y + γα) else — the saved output spares recomputing eˣ.
 */
export function eluRule(opType: 'Elu' | 'Selu', gamma: (ctx: GradContext) => number): GradRule {
  return {
    opType,
    inputsToSave: [0],
    outputsToSave: [0],
    grad(ctx) {
      const e = ctx.emit
      const dtype = ctx.inputDtype(0)
      const scale = gamma(ctx)
      const g = ctx.dyOrZeros(0)
      const positive = scale === 1 ? g : e.op('Mul', [g, e.scalar(scale, dtype)])
      const offset = e.scalar(scale * ctx.attrs.float('alpha'), dtype)
      const negative = e.op('Mul', [g, e.op('Add', [ctx.output(0), offset])])
      return [wherePositive(ctx, ctx.input(0), positive, negative)]
    },
  }
}
