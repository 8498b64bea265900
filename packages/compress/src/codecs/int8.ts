import { MIN_ABSMAX_BITS, quantiseFullBlocks } from '@atoll/simd'
import { INT8_BLOCK, INT8_MAX_BLOCK } from '../constants.ts'
import { CodecMetaError, InvalidOptionError, SizeMismatchError } from '../errors.ts'
import type { Int8Meta } from '../wire/codec-meta.ts'
import { type Codec, type Encoded, outputArray, payloadBuffer } from './encoded.ts'

export interface Int8Options {
  /** values per scale block (default 256) */
  block?: number
  /**
   * Where to write the payload (default: fresh memory). Reusing one buffer per tensor spares the
   * page faults of a fresh allocation every step; the payload is a view of it, so it must not be
   * reused before the payload is sent. Needs a 4-aligned byteOffset and room for the payload.
   */
  out?: Uint8Array
}

/** The int8 code of a non-finite element (NaN or ±Inf); it decodes to NaN. */
export const INT8_NON_FINITE = -128

const FLOAT_EXP_MASK = 0x7f800000

/** 2^-119, the smallest block absmax the SIMD kernel codes. */
const MIN_SIMD_SCALE = new Float32Array(Uint32Array.of(MIN_ABSMAX_BITS).buffer)[0]

/**
 * int8 with a per-block absmax scale. Payload: ⌈n / block⌉ float32 block absmax values, then n
 * int8 codes q ∈ [−127, 127]; element i decodes to q · absmax / 127, so every finite value comes
 * back within half a step (absmax / 254) of where it was. The absmax of a block ignores its
 * non-finite elements; those are coded −128 and decode to NaN (still non-finite, so a diverging
 * run is still seen; the sign of an infinity and of a zero are not kept).
 */
export const int8 = {
  name: 'int8',
  encode(x: Float32Array, options: Int8Options = {}): Encoded {
    const block = options.block ?? INT8_BLOCK
    if (!Number.isSafeInteger(block) || block < 1 || block > INT8_MAX_BLOCK) {
      throw new InvalidOptionError(`int8 block must be an integer in [1, ${INT8_MAX_BLOCK}], got ${block}`)
    }
    const n = x.length
    const blocks = Math.ceil(n / block)
    const payload = payloadBuffer(options.out, 4 * blocks + n, 4, 'int8')
    const scales = new Float32Array(payload.buffer, payload.byteOffset, blocks)
    const codes = new Int8Array(payload.buffer, payload.byteOffset + 4 * blocks, n)
    const bits = new Uint32Array(x.buffer, x.byteOffset, n)
    const simdBlocks = quantiseFullBlocks(x, block, scales, codes)
    for (let b = 0; b < simdBlocks; b++) {
      const scale = scales[b]
      if (!(scale >= MIN_SIMD_SCALE && scale < Number.POSITIVE_INFINITY)) {
        quantiseRareBlock(x, bits, scales, codes, b, b * block, (b + 1) * block)
      }
    }
    quantise(x, bits, scales, codes, block, simdBlocks)
    const codecMeta: Int8Meta = { block }
    return { codec: 'int8', codecMeta, length: n, payload }
  },
  decode(encoded: Encoded, out?: Float32Array): Float32Array {
    const { length: n, payload } = encoded
    const block = (encoded.codecMeta as Int8Meta).block
    if (!Number.isSafeInteger(block) || block < 1)
      throw new CodecMetaError(`int8 block ${block} is not valid`)
    const blocks = Math.ceil(n / block)
    if (payload.byteLength !== 4 * blocks + n) {
      throw new SizeMismatchError(
        `int8 of ${n} elements needs ${4 * blocks + n} bytes, got ${payload.byteLength}`,
      )
    }
    const aligned = payload.byteOffset % 4 === 0 ? payload : payload.slice()
    const scales = new Float32Array(aligned.buffer, aligned.byteOffset, blocks)
    const codes = new Int8Array(aligned.buffer, aligned.byteOffset + 4 * blocks, n)
    const result = outputArray(out, n, 'int8')
    dequantise(codes, scales, result, block)
    return result
  },
} satisfies Codec<Int8Options>

// Adding and subtracting 1.5 · 2^52 rounds a double to the nearest integer (ties to even) in two
// additions, measured ≈ 2 × faster here than Math.round in this loop.
const ROUND = 6755399441055744

/**
 * Codes the blocks from firstBlock on (the SIMD kernel, where it runs, has coded those before).
 * A block's absmax is an integer max over the magnitude bits (no Math.abs),
 * and it is computed for block b + 1 in the same loop that codes block b: one loop over the
 * data instead of two, measured ≈ 10 % faster here.
 */
function quantise(
  x: Float32Array,
  bits: Uint32Array,
  scales: Float32Array,
  codes: Int8Array,
  block: number,
  firstBlock: number,
): void {
  const n = x.length
  let maxBits = blockMaxBits(bits, firstBlock * block, Math.min((firstBlock + 1) * block, n))
  for (let start = firstBlock * block, b = firstBlock; start < n; start += block, b++) {
    const end = Math.min(start + block, n)
    const nextEnd = Math.min(end + block, n)
    if (maxBits >= FLOAT_EXP_MASK) {
      quantiseRareBlock(x, bits, scales, codes, b, start, end)
      maxBits = blockMaxBits(bits, end, nextEnd)
      continue
    }
    scales[b] = magnitude(maxBits)
    const inv = maxBits > 0 ? 127 / scales[b] : 0
    if (nextEnd - end < block) {
      for (let i = start; i < end; i++) codes[i] = x[i] * inv + ROUND - ROUND
      maxBits = blockMaxBits(bits, end, nextEnd)
      continue
    }
    let next = 0
    for (let i = start; i < end; i++) {
      codes[i] = x[i] * inv + ROUND - ROUND
      const a = bits[i + block] & 0x7fffffff
      if (a > next) next = a
    }
    maxBits = next
  }
}

/** The largest magnitude bits in bits[start, end) (NaN and ±Inf included: they are the largest). */
function blockMaxBits(bits: Uint32Array, start: number, end: number): number {
  let maxBits = 0
  for (let i = start; i < end; i++) {
    const a = bits[i] & 0x7fffffff
    if (a > maxBits) maxBits = a
  }
  return maxBits
}

/**
 * A block the fast paths leave out: one holding NaN or ±Inf (its absmax ignores them, and they are
 * coded −128), or, after the SIMD kernel, an all-zero or tiny one.
 */
function quantiseRareBlock(
  x: Float32Array,
  bits: Uint32Array,
  scales: Float32Array,
  codes: Int8Array,
  b: number,
  start: number,
  end: number,
): void {
  let maxBits = 0
  for (let i = start; i < end; i++) {
    const a = bits[i] & 0x7fffffff
    if (a < FLOAT_EXP_MASK && a > maxBits) maxBits = a
  }
  scales[b] = magnitude(maxBits)
  const inv = maxBits > 0 ? 127 / scales[b] : 0
  for (let i = start; i < end; i++) {
    codes[i] = (bits[i] & FLOAT_EXP_MASK) === FLOAT_EXP_MASK ? INT8_NON_FINITE : x[i] * inv + ROUND - ROUND
  }
}

function dequantise(codes: Int8Array, scales: Float32Array, out: Float32Array, block: number): void {
  const n = codes.length
  let nonFinite = 0
  for (let start = 0, b = 0; start < n; start += block, b++) {
    const end = Math.min(start + block, n)
    const step = scales[b] / 127
    for (let i = start; i < end; i++) {
      const q = codes[i]
      out[i] = q * step
      // Counted, not branched on: −128 is rare, and the fix-up pass runs only when it occurs.
      nonFinite += q + 128 === 0 ? 1 : 0
    }
  }
  if (nonFinite > 0) {
    for (let i = 0; i < n; i++) if (codes[i] === INT8_NON_FINITE) out[i] = Number.NaN
  }
}

const scratch = new Float32Array(1)
const scratchBits = new Uint32Array(scratch.buffer)

/** The float32 whose bits are `bits`. */
function magnitude(bits: number): number {
  scratchBits[0] = bits
  return scratch[0]
}
