import { attr } from '../../graph/types.ts'
import { EinsumEquationError, planEinsum } from '../../ops/einsum.ts'
import type { GradContext, GradRule } from '../rule.ts'
import { einsumOperandGrad, type OperandGradPlan } from './einsum-operand.ts'

/**
 * Y = einsum(X₀, X₁, …): the gradient of Xᵢ is an Einsum of the output gradient with the other
 * operands onto Xᵢ's letters (einsum-operand.ts plans it from the forward's parsed equation), then
 * reshaped, masked to its diagonals and expanded to Xᵢ's shape. It may read any operand; a stage
 * keeps only those the emitted Einsums read (none for a one-operand Einsum: a trace, a sum).
 */
export const einsumGrad: GradRule = {
  opType: 'Einsum',
  inputsToSave: 'all',
  grad(ctx) {
    const shapes = ctx.node.inputs.map((_, i) => ctx.inputShape(i))
    try {
      const plan = planEinsum(ctx.attrs.string('equation'), shapes)
      const grads = shapes.map((_, i) => (ctx.needsGrad(i) ? einsumOperandGrad(plan, shapes, i) : undefined))
      return grads.map((g) => g && emitOperandGrad(ctx, g))
    } catch (err) {
      if (err instanceof EinsumEquationError) ctx.fail(err.message)
      throw err
    }
  },
}

/** The operand's gradient from its plan: the products, then the reshape, diagonal mask and expand. */
function emitOperandGrad(ctx: GradContext, plan: OperandGradPlan): string {
  const e = ctx.emit
  const dtype = ctx.inputDtype(plan.operand)
  const value = (k: number) => (k < 0 ? ctx.dyOrZeros(0) : ctx.input(k))
  const products = plan.scalars.map(value)
  if (plan.terms.length > 0) {
    const contracted = plan.terms.map(value)
    const equation = plan.equation
    products.unshift(
      equation === undefined
        ? contracted[0]
        : e.op('Einsum', contracted, { equation: attr.string(equation) }),
    )
  }
  let g = products.reduce((a, b) => e.op('Mul', [a, b]))
  if (plan.reshape) g = e.reshape(g, plan.layout)
  if (plan.mask !== undefined)
    g = e.op('Mul', [g, e.floats(plan.mask.shape, plan.mask.values, dtype, 'diagonal')])
  const shape = ctx.inputShape(plan.operand)
  return plan.expand ? e.op('Expand', [g, e.ints(shape)]) : g
}
