import type { GradRule } from '../rule.ts'

/** y = ln x: dx = g/x. */
export const logGrad: GradRule = {
  opType: 'Log',
  inputsToSave: [0],
  grad: (ctx) => [ctx.emit.op('Div', [ctx.dyOrZeros(0), ctx.input(0)])],
}
