import { takesAsInput } from '../../ops/attrs.ts'
import type { GradRule } from '../rule.ts'

/** dx = g where min ≤ x ≤ max (PyTorch's convention at the bounds); the bounds get no gradient. */
export const clipGrad: GradRule = {
  opType: 'Clip',
  inputsToSave: [0, 1, 2],
  grad(ctx) {
    const e = ctx.emit
    const dtype = ctx.inputDtype(0)
    const x = ctx.input(0)
    const bound = (i: number, name: string): string | undefined => {
      if (takesAsInput('Clip', name, ctx.opset)) return ctx.hasInput(i) ? ctx.input(i) : undefined
      return ctx.attrs.has(name) ? e.scalar(ctx.attrs.float(name), dtype) : undefined
    }
    const lo = bound(1, 'min')
    const hi = bound(2, 'max')
    const inside = [lo && e.op('GreaterOrEqual', [x, lo]), hi && e.op('LessOrEqual', [x, hi])].filter(
      (c): c is string => c !== undefined,
    )
    const g = ctx.dyOrZeros(0)
    if (inside.length === 0) return [g]
    const mask = inside.length === 1 ? inside[0] : e.op('And', inside)
    return [e.op('Where', [mask, g, e.scalar(0, dtype)])]
  },
}
