import { INT8_BLOCK, INT8_MAX_BLOCK } from '../constants.ts'
import { CodecMetaError, InvalidOptionError, SizeMismatchError } from '../errors.ts'
import type { Int8Meta } from '../wire/codec-meta.ts'
import type { Codec, Encoded } from './encoded.ts'

export interface Int8Options {
  /** values per scale block (default 256) */
  block?: number
}

/** The int8 code of a non-finite element (NaN or ±Inf), which decodes to NaN. */
export const INT8_NON_FINITE = -128

const FLOAT_EXP_MASK = 0x7f800000

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
    const payload = new Uint8Array(4 * blocks + n)
    const scales = new Float32Array(payload.buffer, 0, blocks)
    const codes = new Int8Array(payload.buffer, 4 * blocks, n)
    const bits = new Uint32Array(x.buffer, x.byteOffset, n)
    for (let b = 0; b < blocks; b++) {
      const start = b * block
      const end = Math.min(start + block, n)
      scales[b] = quantiseBlock(x, bits, codes, start, end)
    }
    const codecMeta: Int8Meta = { block }
    return { codec: 'int8', codecMeta, length: n, payload }
  },
  decode(encoded: Encoded): Float32Array {
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
    const out = new Float32Array(n)
    for (let b = 0; b < blocks; b++) {
      const start = b * block
      const end = Math.min(start + block, n)
      dequantiseBlock(codes, scales[b] / 127, out, start, end)
    }
    return out
  },
} satisfies Codec<Int8Options>

/** Codes x[start, end) and returns the block's absmax. */
function quantiseBlock(
  x: Float32Array,
  bits: Uint32Array,
  codes: Int8Array,
  start: number,
  end: number,
): number {
  // absmax over the magnitude bits: an integer max, no Math.abs; non-finite bits are skipped.
  let maxBits = 0
  let nonFinite = 0
  for (let i = start; i < end; i++) {
    const a = bits[i] & 0x7fffffff
    if (a >= FLOAT_EXP_MASK) nonFinite++
    else if (a > maxBits) maxBits = a
  }
  const absmax = magnitude(maxBits)
  const inv = absmax > 0 ? 127 / absmax : 0
  for (let i = start; i < end; i++) codes[i] = Math.round(x[i] * inv)
  if (nonFinite > 0) {
    for (let i = start; i < end; i++)
      if ((bits[i] & FLOAT_EXP_MASK) === FLOAT_EXP_MASK) codes[i] = INT8_NON_FINITE
  }
  return absmax
}

function dequantiseBlock(
  codes: Int8Array,
  step: number,
  out: Float32Array,
  start: number,
  end: number,
): void {
  for (let i = start; i < end; i++) {
    const q = codes[i]
    out[i] = q === INT8_NON_FINITE ? Number.NaN : q * step
  }
}

const scratch = new Float32Array(1)
const scratchBits = new Uint32Array(scratch.buffer)

/** The float32 whose bits are `bits`. */
function magnitude(bits: number): number {
  scratchBits[0] = bits
  return scratch[0]
}
