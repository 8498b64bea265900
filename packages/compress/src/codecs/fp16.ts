import { SizeMismatchError } from '../errors.ts'
import { type Codec, type Encoded, outputArray, payloadBuffer } from './encoded.ts'

// Measured on Node 24 here, 16M elements: Float16Array.prototype.set ≈ 3–4 × memcpy, the best
// bit-twiddling loop over a Uint32Array view with exact rounding ≈ 8–10 × memcpy (its rare-case
// branches keep V8 from a tight loop). So Float16Array is used where the platform has it; the
// loop is the fallback (older browsers) and the reference the tests check Float16Array against.
const Float16 = (globalThis as { Float16Array?: Float16ArrayConstructor }).Float16Array

/** float32 → IEEE half bits, round to nearest even; NaN stays NaN, ±Inf, −0 and subnormals kept. */
export function float32ToHalfBits(src: Float32Array, dst: Uint16Array): void {
  if (dst.length !== src.length)
    throw new SizeMismatchError(`fp16 needs ${src.length} outputs, got ${dst.length}`)
  if (Float16 !== undefined) new Float16(dst.buffer, dst.byteOffset, dst.length).set(src)
  else float32ToHalfBitsLoop(new Uint32Array(src.buffer, src.byteOffset, src.length), dst)
}

/** The portable conversion: one pass over the float bits. */
export function float32ToHalfBitsLoop(bits: Uint32Array, dst: Uint16Array): void {
  for (let i = 0; i < bits.length; i++) {
    const w = bits[i]
    const a = w & 0x7fffffff
    // Normal half range [2^-14, 65520): rebias the exponent, round the 13 dropped bits to even.
    // A carry out of the mantissa correctly bumps the exponent, up to Inf at 65520.
    const h = a >= 0x38800000 && a < 0x47800000 ? (a - 0x37fff001 + ((a >>> 13) & 1)) >>> 13 : halfOfRare(a)
    dst[i] = ((w >>> 16) & 0x8000) | h
  }
}

/** Half bits (without sign) of a magnitude outside the normal half range. */
function halfOfRare(a: number): number {
  if (a >= 0x47800000) return a > 0x7f800000 ? 0x7e00 | ((a >>> 13) & 0x3ff) : 0x7c00
  const e = a >>> 23
  // Below 2^-25 (half the smallest subnormal) everything rounds to zero.
  if (e < 102) return 0
  const m = (a & 0x7fffff) | 0x800000
  const shift = 126 - e
  const half = 1 << (shift - 1)
  const rest = m & ((1 << shift) - 1)
  const h = m >>> shift
  return rest > half || (rest === half && (h & 1) === 1) ? h + 1 : h
}

let halfTable: Float32Array | undefined

/**
 * All 65,536 half values as float32 (256 KiB, built once): decoding is one table load per
 * element, measured ≈ 2 × faster here than Float32Array.prototype.set from a Float16Array.
 */
function halfToFloatTable(): Float32Array {
  if (halfTable !== undefined) return halfTable
  const table = new Float32Array(65536)
  const bits = new Uint32Array(table.buffer)
  for (let h = 0; h < 65536; h++) bits[h] = halfToFloatBits(h)
  halfTable = table
  return table
}

/** Exact float32 bits of one half (every half is representable in float32). */
export function halfToFloatBits(half: number): number {
  const sign = (half & 0x8000) << 16
  const e = (half >>> 10) & 0x1f
  const m = half & 0x3ff
  if (e === 0x1f) return (sign | 0x7f800000 | (m << 13)) >>> 0
  if (e !== 0) return (sign | ((e + 112) << 23) | (m << 13)) >>> 0
  if (m === 0) return sign >>> 0
  // Subnormal half: normalise the mantissa into a float32 normal.
  let shift = 0
  while (((m << shift) & 0x400) === 0) shift++
  return (sign | ((113 - shift) << 23) | (((m << shift) & 0x3ff) << 13)) >>> 0
}

/** IEEE half bits → float32 (exact). */
export function halfBitsToFloat32(src: Uint16Array, dst: Float32Array): void {
  if (dst.length !== src.length)
    throw new SizeMismatchError(`fp16 needs ${src.length} outputs, got ${dst.length}`)
  const table = halfToFloatTable()
  for (let i = 0; i < src.length; i++) dst[i] = table[src[i]]
}

export interface Fp16Options {
  /** where to write the payload (default: fresh memory); as for int8, a 2-aligned view is returned */
  out?: Uint8Array
}

/** The fp16 codec: 2 bytes per element. */
export const fp16 = {
  name: 'fp16',
  encode(x: Float32Array, options: Fp16Options = {}): Encoded {
    const payload = payloadBuffer(options.out, 2 * x.length, 2, 'fp16')
    float32ToHalfBits(x, new Uint16Array(payload.buffer, payload.byteOffset, x.length))
    return { codec: 'fp16', codecMeta: {}, length: x.length, payload }
  },
  decode(encoded: Encoded, out?: Float32Array): Float32Array {
    const { length, payload } = encoded
    if (payload.byteLength !== 2 * length) {
      throw new SizeMismatchError(
        `fp16 of ${length} elements needs ${2 * length} bytes, got ${payload.byteLength}`,
      )
    }
    const result = outputArray(out, length, 'fp16')
    halfBitsToFloat32(halfView(payload, length), result)
    return result
  },
} satisfies Codec<Fp16Options>

/** The payload as half bits: a view when 2-aligned, else one copy. */
export function halfView(payload: Uint8Array, length: number): Uint16Array {
  const aligned = payload.byteOffset % 2 === 0 ? payload : payload.slice()
  return new Uint16Array(aligned.buffer, aligned.byteOffset, length)
}
