import { sumTo } from '../broadcast.ts'
import type { GradRule } from '../rule.ts'

/**
 * Y = A·B with numpy batching: dA = g·Bᵀ, dB = Aᵀ·g, summed over broadcast batch axes. 1-D operands
 * are promoted the way MatMul promotes them ([k] → [1,k] on the left, [k,1] on the right) so that
 * one formula covers every case; the result is reshaped back.
 */
export const matMulGrad: GradRule = {
  opType: 'MatMul',
  inputsToSave: [0, 1],
  grad(ctx) {
    const e = ctx.emit
    const aShape = ctx.inputShape(0)
    const bShape = ctx.inputShape(1)
    const a2 = aShape.length === 1 ? [1, aShape[0]] : aShape
    const b2 = bShape.length === 1 ? [bShape[0], 1] : bShape
    const a = () => (aShape.length === 1 ? e.reshape(ctx.input(0), a2) : ctx.input(0))
    const b = () => (bShape.length === 1 ? e.reshape(ctx.input(1), b2) : ctx.input(1))
    const batch = batchShape(a2.slice(0, -2), b2.slice(0, -2))
    const y2 = [...batch, a2[a2.length - 2], b2[b2.length - 1]]
    const g = e.reshape(ctx.dyOrZeros(0), y2)
    const swap = (rank: number) => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2]
    const back = (t: string, full: number[], two: number[], orig: number[]) => {
      const summed = sumTo(e, t, full, two)
      return two === orig ? summed : e.reshape(summed, orig)
    }
    return [
      ctx.needsGrad(0)
        ? back(
            e.op('MatMul', [g, e.transpose(b(), swap(b2.length))]),
            [...batch, ...a2.slice(-2)],
            a2,
            aShape,
          )
        : undefined,
      ctx.needsGrad(1)
        ? back(
            e.op('MatMul', [e.transpose(a(), swap(a2.length)), g]),
            [...batch, ...b2.slice(-2)],
            b2,
            bShape,
          )
        : undefined,
    ]
  },
}

function batchShape(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length)
  return Array.from({ length: n }, (_, i) => {
    const x = a[a.length - n + i] ?? 1
    return x === 1 ? (b[b.length - n + i] ?? 1) : x
  })
}
