import type { GradContext, GradRule } from '../rule.ts'

/** How a scatter's gradient reads values back at its indices (GatherElements or GatherND). */
type Take = (ctx: GradContext, g: string) => string
/** The scatter itself over `data`, writing `updates` at the saved indices. */
type Put = (ctx: GradContext, data: string, updates: string) => string

/**
 * The rule of ScatterElements or ScatterND. With reduction 'add', data's gradient is g and the
 * updates' is g taken at the indices. With 'none' the written positions forget data, so data's
 * gradient is g with zeros scattered there; the updates' is g taken at the indices, right when no
 * index repeats (ONNX leaves repeated indices undefined under 'none'). mul, max and min are not
 * differentiated.
 */
export function scatterRule(opType: 'ScatterElements' | 'ScatterND', take: Take, put: Put): GradRule {
  return {
    opType,
    inputsToSave: [1],
    grad(ctx) {
      const reduction = ctx.attrs.string('reduction')
      if (reduction !== 'none' && reduction !== 'add')
        ctx.fail(`no gradient for reduction '${reduction}' (only 'none' and 'add')`)
      const g = ctx.dyOrZeros(0)
      const written = () => put(ctx, g, ctx.emit.zeros(ctx.inputShape(2), ctx.inputDtype(2)))
      return [
        ctx.needsGrad(0) ? (reduction === 'add' ? g : written()) : undefined,
        undefined,
        ctx.needsGrad(2) ? take(ctx, g) : undefined,
      ]
    },
  }
}
