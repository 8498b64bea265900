import type { GradRule } from '../rule.ts'
import { wherePositive } from './common.ts'

/** dx = g where x > 0, α·g elsewhere. */
export const leakyReluGrad: GradRule = {
  opType: 'LeakyRelu',
  inputsToSave: [0],
  grad(ctx) {
    const g = ctx.dyOrZeros(0)
    const leaked = ctx.emit.op('Mul', [g, ctx.emit.scalar(ctx.attrs.float('alpha'), ctx.inputDtype(0))])
    return [wherePositive(ctx, ctx.input(0), g, leaked)]
  },
}
