import type { GradRule } from '../rule.ts'

/** Trilu keeps a triangle: the gradient is the same triangle of g (k is a constant offset). */
export const triluGrad: GradRule = {
  opType: 'Trilu',
  inputsToSave: [1],
  grad(ctx) {
    const inputs = [ctx.dyOrZeros(0)]
    if (ctx.hasInput(1)) inputs.push(ctx.input(1))
    return [ctx.emit.op('Trilu', inputs, { upper: { kind: 'int', value: ctx.attrs.int('upper') } })]
  },
}
