import type { GradRule } from '../rule.ts'
import { unreduce } from './common.ts'

/** y = √Σx²: dx = x/y·g. */
export const reduceL2Grad: GradRule = {
  opType: 'ReduceL2',
  inputsToSave: [0],
  outputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const back = unreduce(ctx)
    return [e.op('Mul', [ctx.input(0), back(e.op('Div', [ctx.dyOrZeros(0), ctx.output(0)]))])]
  },
}
