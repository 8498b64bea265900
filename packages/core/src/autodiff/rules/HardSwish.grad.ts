import type { GradRule } from '../rule.ts'

/** y = x·clamp(x/6 + ½, 0, 1): dx = g·clamp-derivative: 0 below −3, 1 above 3, x/3 + ½ between. */
export const hardSwishGrad: GradRule = {
  opType: 'HardSwish',
  inputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const dtype = ctx.inputDtype(0)
    const x = ctx.input(0)
    const middle = e.op('Add', [e.op('Mul', [x, e.scalar(1 / 3, dtype)]), e.scalar(0.5, dtype)])
    const upper = e.op('Where', [e.op('Greater', [x, e.scalar(3, dtype)]), e.scalar(1, dtype), middle])
    const slope = e.op('Where', [e.op('Less', [x, e.scalar(-3, dtype)]), e.scalar(0, dtype), upper])
    return [e.op('Mul', [ctx.dyOrZeros(0), slope])]
  },
}
