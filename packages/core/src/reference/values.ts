/**
 * Element access for the reference kernels. Arithmetic runs on float64 numbers whatever the
 * dtype (int64 beyond 2^53 loses precision: fine for indices and shapes, documented for the rest);
 * data movement copies storage elements as they are, so int64 and float16 bits stay exact.
 */
import { type DType, numel, type Tensor, tensor, zeros } from '../tensor.ts'

/** The elements of `t` as float64 numbers (bool → 0/1, float16 bits decoded). */
export function toF64(tensor: Tensor): Float64Array {
  if (tensor.dtype === 'float16') return Float64Array.from(tensor.data as Uint16Array, halfToFloat)
  if (tensor.dtype === 'int64') return Float64Array.from(tensor.data as BigInt64Array, Number)
  return Float64Array.from(tensor.data as ArrayLike<number>)
}

/** A tensor of `dtype` from numbers: integers truncate toward zero, bool is "not zero". */
export function fromF64(dtype: DType, shape: readonly number[], values: ArrayLike<number>): Tensor {
  const n = values.length
  const out = zeros(dtype, shape)
  const d = out.data
  if (dtype === 'int64') for (let i = 0; i < n; i++) (d as BigInt64Array)[i] = toBigInt(values[i])
  else if (dtype === 'bool') for (let i = 0; i < n; i++) (d as Uint8Array)[i] = values[i] !== 0 ? 1 : 0
  else if (dtype === 'float16') for (let i = 0; i < n; i++) (d as Uint16Array)[i] = floatToHalf(values[i])
  else if (dtype === 'int32' || dtype === 'uint8')
    for (let i = 0; i < n; i++) (d as Int32Array)[i] = Math.trunc(values[i])
  else (d as Float64Array).set(values)
  return out
}

const INT64_MAX = 2n ** 63n - 1n
const INT64_MIN = -(2n ** 63n)

/** A number as int64: truncated; NaN → 0 and ±∞ → the int64 limits (BigInt() would throw). */
function toBigInt(x: number): bigint {
  if (Number.isFinite(x)) return BigInt(Math.trunc(x))
  return Number.isNaN(x) ? 0n : x > 0 ? INT64_MAX : INT64_MIN
}

/** Row-major strides of `shape`. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length)
  let acc = 1
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc
    acc *= shape[i]
  }
  return s
}

/**
 * For every element of `outShape`, the flat index into a tensor of `inShape` that broadcasts to it
 * (right-aligned; size-1 dims repeat).
 */
export function broadcastIndex(inShape: readonly number[], outShape: readonly number[]): Int32Array {
  const rank = outShape.length
  const inStrides = stridesOf(inShape)
  const step = outShape.map((_, i) => {
    const j = i - (rank - inShape.length)
    return j < 0 || inShape[j] === 1 ? 0 : inStrides[j]
  })
  return stridedIndex(outShape, step)
}

/**
 * For every element of `shape` in row-major order, base + Σ index[d]·strides[d], walked
 * incrementally (an odometer), so a view — transpose, slice, broadcast — costs O(1) per element.
 */
export function stridedIndex(shape: readonly number[], strides: readonly number[], base = 0): Int32Array {
  const rank = shape.length
  const out = new Int32Array(numel(shape))
  const idx = new Array<number>(rank).fill(0)
  let off = base
  for (let k = 0; k < out.length; k++) {
    out[k] = off
    for (let d = rank - 1; d >= 0; d--) {
      off += strides[d]
      if (++idx[d] < shape[d]) break
      off -= strides[d] * shape[d]
      idx[d] = 0
    }
  }
  return out
}

/** For every multi-index of `shape` in row-major order, `fn(index)`, collected. */
export function mapIndex(shape: readonly number[], fn: (index: number[]) => number): Int32Array {
  const n = numel(shape)
  const out = new Int32Array(n)
  const idx = shape.map(() => 0)
  for (let k = 0; k < n; k++) {
    out[k] = fn(idx)
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break
      idx[d] = 0
    }
  }
  return out
}

/** A tensor of `shape` whose element k is `t`'s element `source[k]` (storage copied as is). */
export function takeFlat(tensor: Tensor, source: Int32Array, shape: readonly number[]): Tensor {
  const out = zeros(tensor.dtype, shape)
  const from = tensor.data as unknown as { [i: number]: number | bigint }
  const to = out.data as unknown as { [i: number]: number | bigint }
  for (let k = 0; k < source.length; k++) to[k] = from[source[k]]
  return out
}

/** A tensor with the same data and a new shape (no copy). */
export function withShape(value: Tensor, shape: readonly number[]): Tensor {
  return tensor(value.dtype, shape, value.data)
}

/** The numbers of a small integer tensor (axes, shapes, indices). */
export function ints(tensor: Tensor): number[] {
  return Array.from(tensor.data as ArrayLike<number | bigint>, Number)
}

/** A scalar's value as a number. */
export function scalar(tensor: Tensor): number {
  return Number(tensor.data[0])
}

const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)

/** IEEE half bits → number. */
export function halfToFloat(half: number): number {
  const e = (half >> 10) & 0x1f
  const m = half & 0x3ff
  const sign = half & 0x8000 ? -1 : 1
  if (e === 0) return sign * m * 2 ** -24
  if (e === 31) return m ? Number.NaN : sign * Number.POSITIVE_INFINITY
  return sign * (1 + m / 1024) * 2 ** (e - 15)
}

/** number → IEEE half bits, rounding to nearest even (through float32, as hardware does). */
export function floatToHalf(value: number): number {
  f32[0] = value
  const b = u32[0]
  const sign = (b >>> 16) & 0x8000
  const e = (b >>> 23) & 0xff
  const m = b & 0x7fffff
  if (e === 255) return sign | 0x7c00 | (m ? 0x200 : 0)
  const he = e - 127 + 15
  if (he >= 31) return sign | 0x7c00
  if (he <= 0) {
    // subnormal half: a multiple of 2^-24; 1024 of them carry into the smallest normal correctly
    const q = Math.abs(f32[0]) * 2 ** 24
    let r = Math.round(q)
    if (r - q === 0.5 && r % 2 === 1) r--
    return sign | r
  }
  const lower = m & 0x1fff
  let h = sign | (he << 10) | (m >> 13)
  if (lower > 0x1000 || (lower === 0x1000 && h & 1)) h++
  return h
}
