import type { GradRule } from '../rule.ts'

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI)
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI)
/** the cubic coefficient of the tanh approximation (Hendrycks & Gimpel) */
const CUBIC = 0.044715

/**
 * Exact: y = x·Φ(x), dy/dx = Φ(x) + x·φ(x). Tanh approximation: y = ½x(1 + t), t = tanh(u),
 * u = √(2/π)(x + 0.044715x³), dy/dx = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²).
 */
export const geluGrad: GradRule = {
  opType: 'Gelu',
  inputsToSave: [0],
  grad(ctx) {
    const e = ctx.emit
    const dtype = ctx.inputDtype(0)
    const c = (v: number) => e.scalar(v, dtype)
    const x = ctx.input(0)
    const x2 = e.op('Mul', [x, x])
    let slope: string
    if (ctx.attrs.string('approximate') === 'tanh') {
      const u = e.op('Mul', [
        e.op('Add', [x, e.op('Mul', [e.op('Mul', [x2, x]), c(CUBIC)])]),
        c(SQRT_2_OVER_PI),
      ])
      const t = e.op('Tanh', [u])
      const du = e.op('Mul', [e.op('Add', [c(1), e.op('Mul', [x2, c(3 * CUBIC)])]), c(SQRT_2_OVER_PI)])
      const left = e.op('Mul', [e.op('Add', [c(1), t]), c(0.5)])
      const right = e.op('Mul', [
        e.op('Mul', [e.op('Mul', [x, c(0.5)]), e.op('Sub', [c(1), e.op('Mul', [t, t])])]),
        du,
      ])
      slope = e.op('Add', [left, right])
    } else {
      const cdf = e.op('Mul', [e.op('Add', [c(1), e.op('Erf', [e.op('Mul', [x, c(Math.SQRT1_2)])])]), c(0.5)])
      const pdf = e.op('Mul', [e.op('Exp', [e.op('Mul', [x2, c(-0.5)])]), c(INV_SQRT_2PI)])
      slope = e.op('Add', [cdf, e.op('Mul', [x, pdf])])
    }
    return [e.op('Mul', [ctx.dyOrZeros(0), slope])]
  },
}
