/**
 * AdamW's element loop as a WebAssembly SIMD kernel (f32x4 lanes), in PyTorch's order of float32
 * operations (`_single_tensor_adamw`): m ← m + (1−β1)(g − m); v ← β2·v + ((1−β2)·g)·g;
 * θ ← θ·keep + (−step)·(m / (√v / √(1−β2ᵗ) + ε)). The arrays live in JS memory, so each
 * chunk is copied into the kernel's memory (sized to stay in cache), updated, and copied back:
 * the same traffic to RAM as an in-place loop. Measured here on 10.8M parameters: about 3× faster
 * than the plain-JS loop, which stays the fallback where SIMD is missing.
 *
 * The module is assembled from named opcodes, as compress's int8 kernel is: no build step and no
 * binary blob.
 */
import { type AdamCoefficients, type AdamSlot, adamwRange } from './adamw-kernels.ts'

const leb = (n: number): number[] => {
  const out: number[] = []
  do {
    let byte = n & 0x7f
    n >>>= 7
    if (n !== 0) byte |= 0x80
    out.push(byte)
  } while (n !== 0)
  return out
}
const name = (s: string) => [...leb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))]
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body]
const simd = (code: number, ...imm: number[]) => [0xfd, ...leb(code), ...imm]

const get = (i: number) => [0x20, i]
const set = (i: number) => [0x21, i]
const load = simd(0x00, 4, 0) // v128.load align=16, offset 0
const store = simd(0x0b, 4, 0)
const splat = simd(0x13) // f32x4.splat
const [sqrt, add, sub, mul, div] = [0xe3, 0xe4, 0xe5, 0xe6, 0xe7].map((c) => simd(c))
const i32Add = [0x6a]

// adamw(theta, grad, m, v, bytes, keep, w1, beta2, w2, bc2sqrt, eps, negStep): params 0–11
const [THETA, GRAD, M, V, BYTES] = [0, 1, 2, 3, 4]
const SCALARS = [5, 6, 7, 8, 9, 10, 11]
// locals: O (i32), the seven scalars splatted, then G, T, M1, V1 (v128)
const O = 12
const [KEEP, W1, B2, W2, BC, EPS, NEG_STEP] = [13, 14, 15, 16, 17, 18, 19]
const [G, T, M1, V1] = [20, 21, 22, 23]
const LOCALS = [2, 1, 0x7f, 11, 0x7b]
const at = (base: number) => [...get(base), ...get(O), ...i32Add]

// biome-ignore format: one statement per line
const body = [
  ...SCALARS.flatMap((p, i) => [...get(p), ...splat, ...set(KEEP + i)]),
  0x02, 0x40, 0x03, 0x40, // block, loop
  ...get(O), ...get(BYTES), 0x4f, 0x0d, 1, // O ≥ bytes: br_if 1 (out)
  ...at(GRAD), ...load, ...set(G),
  ...at(M), ...load, ...set(T),
  ...get(T), ...get(W1), ...get(G), ...get(T), ...sub, ...mul, ...add, ...set(M1), // m + w1·(g − m)
  ...at(M), ...get(M1), ...store,
  ...at(V), ...load, ...get(B2), ...mul, ...get(W2), ...get(G), ...mul, ...get(G), ...mul, ...add, ...set(V1),
  ...at(V), ...get(V1), ...store,
  ...at(THETA),
  ...at(THETA), ...load, ...get(KEEP), ...mul,
  ...get(NEG_STEP), ...get(M1), ...get(V1), ...sqrt, ...get(BC), ...div, ...get(EPS), ...add, ...div, ...mul,
  ...add, ...store,
  ...get(O), 0x41, 16, ...i32Add, ...set(O), // O += 16
  0x0c, 0, // br 0
  0x0b, 0x0b, 0x0b, // end loop, block, function
]
const code = [...LOCALS, ...body]
// biome-ignore format: one section per line
const MODULE = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  ...section(1, [1, 0x60, 12, ...new Array(5).fill(0x7f), ...new Array(7).fill(0x7d), 0]), // (i32 ×5, f32 ×7) → ()
  ...section(2, [1, ...name('m'), ...name('mem'), 0x02, 0x00, 1]), // import memory m.mem
  ...section(3, [1, 0]),
  ...section(7, [1, ...name('adamw'), 0x00, 0]),
  ...section(10, [1, ...leb(code.length), ...code]),
])

/** Elements per chunk: four arrays of 16K floats (256 KiB) stay in L2 between copy-in and copy-out. */
const CHUNK = 1 << 14
const PAGE = 65536

type Kernel = (...args: number[]) => void
interface Loaded {
  run: Kernel
  arrays: Float32Array[]
}

let loaded: Loaded | null | undefined

function instance(): Loaded | null {
  if (loaded !== undefined) return loaded
  try {
    const memory = new WebAssembly.Memory({ initial: Math.ceil((4 * 4 * CHUNK) / PAGE) })
    const exports = new WebAssembly.Instance(new WebAssembly.Module(MODULE), { m: { mem: memory } }).exports
    const arrays = [0, 1, 2, 3].map((k) => new Float32Array(memory.buffer, 4 * k * CHUNK, CHUNK))
    loaded = { run: exports.adamw as Kernel, arrays }
  } catch {
    loaded = null
  }
  return loaded
}

/** Whether the SIMD kernel runs here (else `adamwRangeSimd` is the JS loop). */
export function adamwSimdAvailable(): boolean {
  return instance() !== null
}

/** `adamwRange` with the SIMD kernel: same arguments, PyTorch's float32 order of operations. */
export function adamwRangeSimd(s: AdamSlot, from: number, to: number, c: AdamCoefficients): void {
  const k = instance()
  if (k === null) {
    adamwRange(s, from, to, c)
    return
  }
  const [theta, grad, m, v] = k.arrays
  const bc2sqrt = 1 / c.invBc2Sqrt
  for (let start = from; start < to; start += CHUNK) {
    const n = Math.min(CHUNK, to - start)
    const end = start + n
    theta.set(s.theta.subarray(start, end))
    grad.set(s.grad.subarray(start, end))
    m.set(s.m.subarray(start, end))
    v.set(s.v.subarray(start, end))
    // lanes past n (a partial last vector) compute on stale values and are never copied out
    const bytes = 4 * Math.ceil(n / 4) * 4
    k.run(
      0,
      4 * CHUNK,
      8 * CHUNK,
      12 * CHUNK,
      bytes,
      c.keep,
      1 - c.beta1,
      c.beta2,
      1 - c.beta2,
      bc2sqrt,
      c.eps,
      -c.stepSize,
    )
    s.theta.set(theta.subarray(0, n), start)
    s.m.set(m.subarray(0, n), start)
    s.v.set(v.subarray(0, n), start)
  }
}
