/**
 * AdamW's element loop as a WebAssembly SIMD kernel (f32x4 lanes), in PyTorch's order of float32
 * operations (`_single_tensor_adamw`): m ← m + (1−β1)(g − m); v ← β2·v + ((1−β2)·g)·g;
 * θ ← θ·keep + (−step)·(m / (√v / √(1−β2ᵗ) + ε)). The arrays live in JS memory, so each chunk is
 * copied into the kernel's memory (sized to stay in cache), updated, and copied back: the same
 * traffic to RAM as an in-place loop. Measured on 10.8M parameters: about 3× faster than the
 * plain-JS loop, which stays in @atoll/runtime as the fallback where SIMD is missing.
 */
import type { KernelSource } from './assembler.ts'
import { op } from './assembler.ts'
import { lazyKernel } from './kernel.ts'

/** One parameter's arrays. */
export interface AdamwArrays {
  theta: Float32Array
  grad: Float32Array
  m: Float32Array
  v: Float32Array
}

/** Per-step numbers, in a reusable object (a step allocates nothing). */
export interface AdamwCoefficients {
  /** 1 − γλ, or 1 for a parameter that does not decay */
  keep: number
  beta1: number
  beta2: number
  /** γ / (1 − β1ᵗ) */
  stepSize: number
  /** 1 / √(1 − β2ᵗ): a reciprocal, so the loop multiplies (differs from PyTorch's division by an ulp of float64) */
  invBc2Sqrt: number
  eps: number
}

// adamw(theta, grad, m, v, bytes, keep, w1, beta2, w2, bc2sqrt, eps, negStep): params 0–11
const [THETA, GRAD, M, V, BYTES] = [0, 1, 2, 3, 4]
const SCALARS = [5, 6, 7, 8, 9, 10, 11]
// locals: O (a byte offset), the seven scalars splatted, then G, T, M1, V1
const O = 12
const [KEEP, W1, B2, W2, BC, EPS, NEG_STEP] = [13, 14, 15, 16, 17, 18, 19]
const [G, T, M1, V1] = [20, 21, 22, 23]
const { localGet: get, localSet: set } = op
const { f32x4Add: add, f32x4Sub: sub, f32x4Mul: mul, f32x4Div: div } = op
const at = (base: number) => [...get(base), ...get(O), ...op.i32Add]

// biome-ignore format: one statement per line
const body = [
  ...SCALARS.flatMap((p, i) => [...get(p), ...op.f32x4Splat, ...set(KEEP + i)]),
  ...op.block, ...op.loop,
  ...get(O), ...get(BYTES), ...op.i32GeU, ...op.brIf(1), // O ≥ bytes: out
  ...at(GRAD), ...op.v128Load(0), ...set(G),
  ...at(M), ...op.v128Load(0), ...set(T),
  ...get(T), ...get(W1), ...get(G), ...get(T), ...sub, ...mul, ...add, ...set(M1), // m + w1·(g − m)
  ...at(M), ...get(M1), ...op.v128Store(0),
  ...at(V), ...op.v128Load(0), ...get(B2), ...mul, ...get(W2), ...get(G), ...mul, ...get(G), ...mul, ...add, ...set(V1),
  ...at(V), ...get(V1), ...op.v128Store(0),
  ...at(THETA),
  ...at(THETA), ...op.v128Load(0), ...get(KEEP), ...mul,
  ...get(NEG_STEP), ...get(M1), ...get(V1), ...op.f32x4Sqrt, ...get(BC), ...div, ...get(EPS), ...add, ...div, ...mul,
  ...add, ...op.v128Store(0),
  ...get(O), ...op.i32Const(16), ...op.i32Add, ...set(O), // O += 16
  ...op.br(0),
  ...op.end, ...op.end,
]

const ADAMW: KernelSource = {
  name: 'adamw',
  params: [...new Array(5).fill('i32'), ...new Array(7).fill('f32')],
  locals: ['i32', ...new Array(11).fill('v128')],
  body,
}

/** Elements per chunk: four arrays of 16K floats (256 KiB) stay in L2 between copy-in and copy-out. */
const CHUNK = 1 << 14

type Update = (...args: number[]) => void
const kernel = lazyKernel<Update>(ADAMW, 4 * 4 * CHUNK)
let views: Float32Array[] | undefined

/** theta, grad, m and v of one chunk, in the kernel's memory. */
function chunkArrays(memory: WebAssembly.Memory): Float32Array[] {
  views ??= [0, 1, 2, 3].map((i) => new Float32Array(memory.buffer, 4 * i * CHUNK, CHUNK))
  return views
}

/** Whether the SIMD kernel runs here (else adamwSimd does nothing and says so). */
export function adamwSimdAvailable(): boolean {
  return kernel() !== null
}

/**
 * AdamW over [from, to) of `s` with the SIMD kernel, in PyTorch's float32 order of operations;
 * false, with nothing done, where SIMD is missing (the caller runs its JS loop).
 */
export function adamwSimd(
  arrays: AdamwArrays,
  from: number,
  to: number,
  coefficients: AdamwCoefficients,
): boolean {
  const k = kernel()
  if (k === null) return false
  const [theta, grad, m, v] = chunkArrays(k.memory)
  const bc2sqrt = 1 / coefficients.invBc2Sqrt
  for (let start = from; start < to; start += CHUNK) {
    const n = Math.min(CHUNK, to - start)
    const end = start + n
    theta.set(arrays.theta.subarray(start, end))
    grad.set(arrays.grad.subarray(start, end))
    m.set(arrays.m.subarray(start, end))
    v.set(arrays.v.subarray(start, end))
    // lanes past n (a partial last vector) compute on stale values and are never copied out
    const bytes = 4 * Math.ceil(n / 4) * 4
    k.run(
      0,
      4 * CHUNK,
      8 * CHUNK,
      12 * CHUNK,
      bytes,
      coefficients.keep,
      1 - coefficients.beta1,
      coefficients.beta2,
      1 - coefficients.beta2,
      bc2sqrt,
      coefficients.eps,
      -coefficients.stepSize,
    )
    arrays.theta.set(theta.subarray(0, n), start)
    arrays.m.set(m.subarray(0, n), start)
    arrays.v.set(v.subarray(0, n), start)
  }
  return true
}
