import type { GradRule } from '../rule.ts'
import { expandReduced, reducedAxes } from './common.ts'

/** y = √Σx²: dx = x/y·g. */
export const reduceL2Grad: GradRule = {
  opType: 'ReduceL2',
  inputsToSave: [0],
  outputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const axes = reducedAxes(ctx) ?? []
    const back = (t: string) => (axes.length === 0 ? t : expandReduced(ctx, t, axes))
    return [e.op('Mul', [ctx.input(0), back(e.op('Div', [ctx.dyOrZeros(0), ctx.output(0)]))])]
  },
}
