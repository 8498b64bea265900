/** Shape functions of MatMul (numpy matmul with batch broadcasting) and Gemm. */
import type { Dim } from '../../graph/types.ts'
import { showShape } from '../dims.ts'
import { EinsumEquationError, planEinsum } from '../einsum.ts'
import type { ShapeFn } from './context.ts'
import { broadcastShapes } from './elementwise.ts'

const agree = (a: Dim, b: Dim): boolean => a === b || typeof a === 'string' || typeof b === 'string'

export const matMul: ShapeFn = (ctx) => {
  const a = ctx.shape(0)
  const b = ctx.shape(1)
  if (a.length === 0 || b.length === 0) ctx.fail('MatMul inputs must have rank >= 1')
  if (ctx.dtype(0) !== ctx.dtype(1))
    ctx.fail(`inputs must share a dtype, found ${ctx.dtype(0)} and ${ctx.dtype(1)}`)
  // numpy: a 1-D operand gets a dim prepended (A) or appended (B), removed from the result again
  const a2 = a.length === 1 ? [1, a[0]] : a
  const b2 = b.length === 1 ? [b[0], 1] : b
  const k1 = a2[a2.length - 1]
  const k2 = b2[b2.length - 2]
  if (!agree(k1, k2)) ctx.fail(`inner dimensions differ: ${showShape(a)} × ${showShape(b)}`)
  const batch = broadcastShapes(ctx.node, [a2.slice(0, -2), b2.slice(0, -2)])
  const out = [...batch]
  if (a.length > 1) out.push(a2[a2.length - 2])
  if (b.length > 1) out.push(b2[b2.length - 1])
  return [{ dtype: ctx.dtype(0), shape: out }]
}

export const gemm: ShapeFn = (ctx) => {
  const a = ctx.shape(0)
  const b = ctx.shape(1)
  if (a.length !== 2 || b.length !== 2)
    ctx.fail(`A and B must be 2-D, found ${showShape(a)} and ${showShape(b)}`)
  const [m, ka] = ctx.attrs.int('transA') ? [a[1], a[0]] : [a[0], a[1]]
  const [kb, n] = ctx.attrs.int('transB') ? [b[1], b[0]] : [b[0], b[1]]
  if (!agree(ka, kb))
    ctx.fail(`inner dimensions differ: ${showShape(a)} × ${showShape(b)} (transA/transB applied)`)
  if (ctx.has(2)) broadcastShapes(ctx.node, [[m, n], ctx.shape(2)])
  return [{ dtype: ctx.dtype(0), shape: [m, n] }]
}

const einsum: ShapeFn = (ctx) => {
  const shapes = Array.from({ length: ctx.inputCount }, (_, i) => ctx.shape(i))
  try {
    const plan = planEinsum(ctx.attrs.string('equation'), shapes)
    return [{ dtype: ctx.dtype(0), shape: plan.output.map((l) => plan.sizes.get(l) as Dim) }]
  } catch (err) {
    if (err instanceof EinsumEquationError) ctx.fail(err.message)
    throw err
  }
}

export const LINALG_SHAPES: Record<string, ShapeFn> = { MatMul: matMul, Gemm: gemm, Einsum: einsum }
