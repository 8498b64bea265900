import { attr } from '../../graph/types.ts'
import { sumTo } from '../broadcast.ts'
import type { GradRule } from '../rule.ts'

/**
 * Y = α·A'·B' + β·C with A' = transA ? Aᵀ : A (same for B). Each gradient is itself one Gemm whose
 * trans flags absorb the transposes: dA' = α·g·B'ᵀ, dB' = α·A'ᵀ·g, and dA = dA'ᵀ when transA.
 */
export const gemmGrad: GradRule = {
  opType: 'Gemm',
  inputsToSave: [0, 1],
  grad(ctx) {
    const e = ctx.emit
    const { float, int } = ctx.attrs
    const alpha = float('alpha')
    const beta = float('beta')
    const tA = int('transA') === 1
    const tB = int('transB') === 1
    const g = ctx.dyOrZeros(0)
    const gemm = (x: string, y: string, transA: boolean, transB: boolean) =>
      e.op('Gemm', [x, y], {
        alpha: attr.float(alpha),
        transA: attr.int(transA ? 1 : 0),
        transB: attr.int(transB ? 1 : 0),
      })
    // dA: transA=0 → g·B'ᵀ ; transA=1 → B'·gᵀ
    const dA = (b: string) => (tA ? gemm(b, g, tB, true) : gemm(g, b, false, !tB))
    // dB: transB=0 → A'ᵀ·g ; transB=1 → gᵀ·A'
    const dB = (a: string) => (tB ? gemm(g, a, true, tA) : gemm(a, g, !tA, false))
    let dC: string | undefined
    if (ctx.hasInput(2) && ctx.needsGrad(2)) {
      const scaled = beta === 1 ? g : e.op('Mul', [g, e.scalar(beta, ctx.inputDtype(0))])
      dC = sumTo(e, scaled, ctx.outputShape(0), ctx.inputShape(2))
    }
    return [
      ctx.needsGrad(0) ? dA(ctx.input(1)) : undefined,
      ctx.needsGrad(1) ? dB(ctx.input(0)) : undefined,
      dC,
    ]
  },
}
