/** MatMul (numpy semantics, batch broadcasting) and Gemm. */
import { broadcastShapes } from '../ops/shape/elementwise.ts'
import { numel } from '../tensor.ts'
import { einsum } from './einsum.ts'
import type { Kernel } from './kernel.ts'
import { broadcastIndex, fromF64, toF64 } from './values.ts'

/** out[m×n] += a[m×k] · b[k×n], reading a and b at offsets; the i-k-j order walks rows contiguously. */
export function gemmInto(
  out: Float64Array,
  outOffset: number,
  left: Float64Array,
  leftOffset: number,
  right: Float64Array,
  rightOffset: number,
  rows: number,
  inner: number,
  cols: number,
) {
  for (let i = 0; i < rows; i++) {
    for (let p = 0; p < inner; p++) {
      const av = left[leftOffset + i * inner + p]
      const brow = rightOffset + p * cols
      const orow = outOffset + i * cols
      for (let j = 0; j < cols; j++) out[orow + j] += av * right[brow + j]
    }
  }
}

const matMul: Kernel = (ctx) => {
  const a = ctx.input(0)
  const b = ctx.input(1)
  const as = a.shape.length === 1 ? [1, a.shape[0]] : [...a.shape]
  const bs = b.shape.length === 1 ? [b.shape[0], 1] : [...b.shape]
  const [m, k] = as.slice(-2)
  const [k2, n] = bs.slice(-2)
  if (k !== k2) ctx.fail(`inner dimensions differ: [${a.shape}] × [${b.shape}]`)
  const batch = broadcastShapes(ctx.node, [as.slice(0, -2), bs.slice(0, -2)]) as number[]
  const ia = broadcastIndex(as.slice(0, -2), batch)
  const ib = broadcastIndex(bs.slice(0, -2), batch)
  const av = toF64(a)
  const bv = toF64(b)
  const out = new Float64Array(numel(batch) * m * n)
  for (let t = 0; t < ia.length; t++) gemmInto(out, t * m * n, av, ia[t] * m * k, bv, ib[t] * k * n, m, k, n)
  const shape = [...batch, ...(a.shape.length > 1 ? [m] : []), ...(b.shape.length > 1 ? [n] : [])]
  return [fromF64(a.dtype, shape, out)]
}

/** The row-major [rows × cols] matrix of `v` ([cols × rows] when transposed). */
function oriented(v: Float64Array, rows: number, cols: number, transposed: boolean): Float64Array {
  if (!transposed) return v
  const t = new Float64Array(rows * cols)
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[i * cols + j] = v[j * rows + i]
  return t
}

const gemm: Kernel = (ctx) => {
  const a = ctx.input(0)
  const b = ctx.input(1)
  const ta = ctx.attrs.int('transA') === 1
  const tb = ctx.attrs.int('transB') === 1
  const [m, k] = ta ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]]
  const [k2, n] = tb ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]]
  if (a.shape.length !== 2 || b.shape.length !== 2 || k !== k2)
    ctx.fail(`cannot multiply [${a.shape}] and [${b.shape}]`)
  const out = new Float64Array(m * n)
  gemmInto(out, 0, oriented(toF64(a), m, k, ta), 0, oriented(toF64(b), k, n, tb), 0, m, k, n)
  const alpha = ctx.attrs.float('alpha')
  const beta = ctx.attrs.float('beta')
  const c = ctx.inputs[2]
  const cv = c ? toF64(c) : undefined
  const ic = c ? broadcastIndex(c.shape, [m, n]) : undefined
  for (let i = 0; i < out.length; i++) out[i] = alpha * out[i] + (cv && ic ? beta * cv[ic[i]] : 0)
  return [fromF64(a.dtype, [m, n], out)]
}

export const LINALG_KERNELS: Record<string, Kernel> = { MatMul: matMul, Gemm: gemm, Einsum: einsum }
