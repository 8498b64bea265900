import { attr } from '../../graph/types.ts'
import { sumTo } from '../broadcast.ts'
import type { GradContext, GradRule } from '../rule.ts'

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
    if (bShape.length === 2 && aShape.length >= 2) return linearGrad(ctx, aShape, bShape)
    const a2 = aShape.length === 1 ? [1, aShape[0]] : aShape
    const b2 = bShape.length === 1 ? [bShape[0], 1] : bShape
    const a = () => (aShape.length === 1 ? e.reshape(ctx.input(0), a2) : ctx.input(0))
    const b = () => (bShape.length === 1 ? e.reshape(ctx.input(1), b2) : ctx.input(1))
    const batch = batchShape(a2.slice(0, -2), b2.slice(0, -2))
    const y2 = [...batch, a2[a2.length - 2], b2[b2.length - 1]]
    const y = ctx.outputShape(0)
    const sameY = y.length === y2.length && y.every((d, i) => d === y2[i])
    const g = sameY ? ctx.dyOrZeros(0) : e.reshape(ctx.dyOrZeros(0), y2)
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

/**
 * The common Linear case, x [..., k] · W [k, n]: dW = xᵀ·g is one 2-D Gemm with x and g viewed as
 * [rows, k] and [rows, n] (a trans flag, no ReduceSum over the batch). dx = g·Wᵀ is a Gemm when x is
 * 2-D, else a batched MatMul by Wᵀ, which onnxruntime fuses into one FusedMatMul: one node where a
 * Gemm between two reshapes takes three (each node costs ~15 µs of host time on a GPU).
 */
function linearGrad(ctx: GradContext, aShape: number[], bShape: number[]): (string | undefined)[] {
  const e = ctx.emit
  const [k, n] = bShape
  const rows = aShape.reduce((p, d) => p * d, 1) / k
  const flat = aShape.length === 2
  const dy = ctx.dyOrZeros(0)
  const g = flat ? dy : e.reshape(dy, [rows, n])
  const gemm = (x: string, y: string, transA: number, transB: number) =>
    e.op('Gemm', [x, y], { transA: attr.int(transA), transB: attr.int(transB) })
  const dA = () =>
    flat ? gemm(g, ctx.input(1), 0, 1) : e.op('MatMul', [dy, e.transpose(ctx.input(1), [1, 0])])
  const dB = () => gemm(flat ? ctx.input(0) : e.reshape(ctx.input(0), [rows, k]), g, 1, 0)
  return [ctx.needsGrad(0) ? dA() : undefined, ctx.needsGrad(1) ? dB() : undefined]
}
