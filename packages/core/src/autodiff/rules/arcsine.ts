import type { GradRule } from '../rule.ts'

/**
 * The rule of Asin or Acos: d/dx asin x = 1/√(1 − x²) and acos x = π/2 − asin x, so Acos's is the
 * same with the sign flipped.
 */
export function arcsineRule(opType: 'Asin' | 'Acos'): GradRule {
  return {
    opType,
    inputsToSave: [0],
    grad(ctx) {
      const e = ctx.emit
      const x = ctx.input(0)
      const root = e.op('Sqrt', [e.op('Sub', [e.scalar(1, ctx.inputDtype(0)), e.op('Mul', [x, x])])])
      const g = opType === 'Asin' ? ctx.dyOrZeros(0) : e.op('Neg', [ctx.dyOrZeros(0)])
      return [e.op('Div', [g, root])]
    },
  }
}
