/**
 * The int8 block quantiser as a WebAssembly SIMD kernel (f32x4 lanes), for the full blocks of a
 * tensor when the block size is a multiple of 16. Measured here on 16M elements: ≈ 1.7 × memcpy
 * including the copies into and out of wasm memory, against ≈ 5 × for the best plain-JS loop,
 * which stays the fallback (no SIMD, other block sizes) and codes the tail block and any block
 * holding NaN or ±Inf.
 *
 * The module is assembled below from named opcodes (no build step, no binary blob to trust): for
 * each block, absmax = integer max of the magnitude bits (i32x4.max_u: one cycle, where
 * f32x4.max's NaN semantics cost a long dependency chain), then codes = trunc(nearest(x × 127 /
 * absmax)) narrowed 32 → 16 → 8 bits, 16 per iteration. A block whose absmax is non-finite, zero
 * or below 2^-119 is skipped: the caller recodes it, as its scale tells. The product is rounded in float32 here and in
 * float64 in the JS path, so the two may differ by one code on a near-tie; both are within half a
 * step.
 */
import { leb, op, section, wasmName } from './wasm.ts'

/**
 * Bits of 2^-119: below it 127 / absmax overflows float32, so such blocks (and all-zero ones) are
 * left to the JS path, like blocks holding NaN or ±Inf.
 */
export const MIN_ABSMAX_BITS = 0x04000000

// quantise(src, blocks, block, scales, codes): params 0–4, then locals.
const [SRC, BLOCKS, BLOCK, SCALES, CODES] = [0, 1, 2, 3, 4]
const [B, END, MAX, ABSMAX, INV, P, BLOCK_BYTES, T, U, MASK] = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
const LOCALS = [6, 2, 0x7f, 1, 0x7b, 1, 0x7d, 1, 0x7b, 4, 0x7f, 1, 0x7b] // i32 ×2, v128, f32, v128, i32 ×4, v128

/** T = max_u(T, U) */
const maxInto = [
  ...op.get(U),
  ...op.get(T),
  ...op.get(U),
  ...op.get(T),
  ...op.i32GtU,
  ...op.select,
  ...op.set(T),
]
/** four float32 at P + offset → four int32 codes */
const codes4 = (offset: number) => [
  ...op.get(P),
  ...op.v128Load(offset),
  ...op.get(INV),
  ...op.f32x4Mul,
  ...op.f32x4Nearest,
  ...op.i32x4TruncSatF32x4S,
]

// biome-ignore format: one WebAssembly statement per line reads better than one opcode per line
const body = [
  ...op.get(BLOCK), ...op.i32Const(2), ...op.i32Shl, ...op.set(BLOCK_BYTES),
  ...op.i32Const(0x7fffffff), ...op.i32x4Splat, ...op.set(MASK),
  ...op.block, ...op.loop,
  // for each block b < blocks
  ...op.get(B), ...op.get(BLOCKS), ...op.i32GeU, ...op.brIf(1),
  ...op.v128Zero, ...op.set(MAX),
  ...op.get(SRC), ...op.set(P),
  ...op.get(SRC), ...op.get(BLOCK_BYTES), ...op.i32Add, ...op.set(END),
  ...op.loop,
  ...op.get(MAX), ...op.get(P), ...op.v128Load(0), ...op.get(MASK), ...op.v128And, ...op.i32x4MaxU, ...op.set(MAX),
  ...op.get(P), ...op.i32Const(16), ...op.i32Add, ...op.tee(P), ...op.get(END), ...op.i32LtU, ...op.brIf(0),
  ...op.end,
  ...op.get(MAX), ...op.i32x4ExtractLane(0), ...op.set(T),
  ...[1, 2, 3].flatMap((lane) => [...op.get(MAX), ...op.i32x4ExtractLane(lane), ...op.set(U), ...maxInto]),
  ...op.get(T), ...op.f32ReinterpretI32, ...op.set(ABSMAX),
  ...op.get(SCALES), ...op.get(B), ...op.i32Const(2), ...op.i32Shl, ...op.i32Add, ...op.get(ABSMAX), ...op.f32Store,
  // absmax in [2^-119, Inf) (so 127 / absmax fits a float32): code the block; else skip it
  ...op.get(T), ...op.i32Const(MIN_ABSMAX_BITS), ...op.i32Sub, ...op.i32Const(0x7f800000 - MIN_ABSMAX_BITS), ...op.i32LtU,
  ...op.if,
  ...op.f32Const(127), ...op.get(ABSMAX), ...op.f32Div, ...op.f32x4Splat, ...op.set(INV),
  ...op.get(SRC), ...op.set(P),
  ...op.loop,
  ...op.get(CODES),
  ...codes4(0), ...codes4(16), ...op.i16x8NarrowI32x4S,
  ...codes4(32), ...codes4(48), ...op.i16x8NarrowI32x4S,
  ...op.i8x16NarrowI16x8S, ...op.v128Store,
  ...op.get(CODES), ...op.i32Const(16), ...op.i32Add, ...op.set(CODES),
  ...op.get(P), ...op.i32Const(64), ...op.i32Add, ...op.tee(P), ...op.get(END), ...op.i32LtU, ...op.brIf(0),
  ...op.end,
  ...op.else,
  ...op.get(CODES), ...op.get(BLOCK), ...op.i32Add, ...op.set(CODES),
  ...op.end,
  ...op.get(SRC), ...op.get(BLOCK_BYTES), ...op.i32Add, ...op.set(SRC),
  ...op.get(B), ...op.i32Const(1), ...op.i32Add, ...op.set(B),
  ...op.br(0),
  ...op.end, ...op.end,
  ...op.end,
]

const code = [...LOCALS, ...body]
// biome-ignore format: one section per line
const MODULE = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  ...section(1, [1, 0x60, 5, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]), // type: (i32 ×5) → ()
  ...section(2, [1, ...wasmName('m'), ...wasmName('mem'), 0x02, 0x00, 1]), // import memory m.mem
  ...section(3, [1, 0]), // one function of type 0
  ...section(7, [1, ...wasmName('quantise'), 0x00, 0]), // export it
  ...section(10, [1, ...leb(code.length), ...code]), // its code
])

const PAGE = 65536

interface Kernel {
  memory: WebAssembly.Memory
  quantise: (src: number, blocks: number, block: number, scales: number, codes: number) => void
}

let kernel: Kernel | null | undefined

/** The kernel, or null where WebAssembly SIMD is missing (then the JS path is used). */
function load(): Kernel | null {
  if (kernel !== undefined) return kernel
  try {
    // Compiled synchronously: browsers allow that on the main thread below 4 KiB; this is ≈ 350 B.
    const memory = new WebAssembly.Memory({ initial: 1 })
    const instance = new WebAssembly.Instance(new WebAssembly.Module(MODULE), { m: { mem: memory } })
    kernel = { memory, quantise: instance.exports.quantise as Kernel['quantise'] }
  } catch {
    kernel = null
  }
  return kernel
}

/** Whether the SIMD kernel runs on this platform. */
export function int8SimdAvailable(): boolean {
  return load() !== null
}

/**
 * Elements per kernel call: the tensor goes through wasm memory in chunks of 1 MiB, so that memory
 * stays small (≈ 1.3 MiB, kept for reuse) and each chunk is still in cache when it is coded.
 */
const CHUNK_ELEMENTS = 1 << 18

/**
 * Codes the first ⌊n / block⌋ blocks of x into scales and codes, when the kernel is available
 * and block is a multiple of 16; returns how many blocks it coded (0: none, use the JS path).
 * A block whose scale is not in [2^-119, Inf) is left to the caller (see MIN_ABSMAX_BITS).
 */
export function quantiseFullBlocks(
  x: Float32Array,
  block: number,
  scales: Float32Array,
  codes: Int8Array,
): number {
  const k = block % 16 === 0 ? load() : null
  const blocks = Math.floor(x.length / block)
  if (k === null || blocks === 0) return 0
  const chunkBlocks = Math.max(1, Math.floor(CHUNK_ELEMENTS / block))
  const chunk = chunkBlocks * block
  const scalesAt = 4 * chunk
  const codesAt = scalesAt + 4 * chunkBlocks
  const needed = codesAt + chunk
  if (needed > k.memory.buffer.byteLength) {
    try {
      k.memory.grow(Math.ceil((needed - k.memory.buffer.byteLength) / PAGE))
    } catch {
      return 0
    }
  }
  const memory = k.memory.buffer
  const input = new Float32Array(memory, 0, chunk)
  for (let first = 0; first < blocks; first += chunkBlocks) {
    const count = Math.min(chunkBlocks, blocks - first)
    const start = first * block
    input.set(x.subarray(start, start + count * block))
    k.quantise(0, count, block, scalesAt, codesAt)
    scales.set(new Float32Array(memory, scalesAt, count), first)
    codes.set(new Int8Array(memory, codesAt, count * block), start)
  }
  return blocks
}
