import type { GradRule } from '../rule.ts'

/** y = clamp(αx + β, 0, 1): dx = α·g strictly inside the ramp. */
export const hardSigmoidGrad: GradRule = {
  opType: 'HardSigmoid',
  inputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const dtype = ctx.inputDtype(0)
    const alpha = ctx.attrs.float('alpha')
    const ramp = e.op('Add', [
      e.op('Mul', [ctx.input(0), e.scalar(alpha, dtype)]),
      e.scalar(ctx.attrs.float('beta'), dtype),
    ])
    const inside = e.op('And', [
      e.op('Greater', [ramp, e.scalar(0, dtype)]),
      e.op('Less', [ramp, e.scalar(1, dtype)]),
    ])
    const g = ctx.dyOrZeros(0)
    return [e.op('Where', [inside, e.op('Mul', [g, e.scalar(alpha, dtype)]), e.scalar(0, dtype)])]
  },
}
