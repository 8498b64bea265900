import { InvalidOptionError } from '../errors.ts'
import type { Codec, Encoded } from './encoded.ts'
import { decodeSparse, encodeSparse, type SparseOptions } from './sparse.ts'

export interface TopKOptions extends SparseOptions {
  /** values to keep, an integer in [0, n] */
  k: number
}

// Magnitude order is the integer order of the float bits without the sign (NaN bits rank above
// +Inf, so a NaN is always kept, and the receiver sees it). Two radix levels cover the 31 bits:
// 16 high bits (exponent + 8 mantissa bits) over every element, then the 15 low bits over the
// few elements of the one boundary bucket.
const HIGH_SHIFT = 15
const HIGH_BUCKETS = 1 << 16
const LOW_MASK = (1 << HIGH_SHIFT) - 1
const highCounts = new Uint32Array(HIGH_BUCKETS)
const lowCounts = new Uint32Array(1 << HIGH_SHIFT)

/**
 * Indices of the k elements of largest magnitude, ascending, in O(n): a histogram pass, a pass
 * that collects the elements above and inside the boundary bucket, then a small histogram over the
 * boundary bucket. Ties at the threshold go to the lower index.
 */
export function selectTopK(input: Float32Array, count: number): Uint32Array {
  const n = input.length
  checkK(count, n)
  const out = new Uint32Array(count)
  if (count === 0) return out
  if (count === n) {
    for (let i = 0; i < n; i++) out[i] = i
    return out
  }
  const bits = new Uint32Array(input.buffer, input.byteOffset, n)
  highCounts.fill(0)
  histogramHigh(bits, highCounts)
  let bucket = HIGH_BUCKETS - 1
  let above = 0
  while (above + highCounts[bucket] < count) above += highCounts[bucket--]
  const aboveIndices = new Uint32Array(above)
  const boundary = new Uint32Array(highCounts[bucket])
  splitAtBucket(bits, bucket, aboveIndices, boundary)
  const chosen = resolveBoundary(bits, boundary, count - above)
  mergeAscending(aboveIndices, chosen, out)
  return out
}

function histogramHigh(bits: Uint32Array, counts: Uint32Array): void {
  for (let i = 0; i < bits.length; i++) counts[(bits[i] & 0x7fffffff) >>> HIGH_SHIFT]++
}

/** Indices (ascending) of elements above the boundary bucket, and of those inside it. */
function splitAtBucket(bits: Uint32Array, bucket: number, above: Uint32Array, inside: Uint32Array): void {
  const low = bucket << HIGH_SHIFT
  const high = (bucket + 1) * (1 << HIGH_SHIFT)
  let a = 0
  let b = 0
  for (let i = 0; i < bits.length; i++) {
    const key = bits[i] & 0x7fffffff
    if (key >= low) {
      if (key >= high) above[a++] = i
      else inside[b++] = i
    }
  }
}

/** The `need` largest of the boundary bucket's elements (ascending indices; ties: lower index). */
function resolveBoundary(bits: Uint32Array, inside: Uint32Array, need: number): Uint32Array {
  const chosen = new Uint32Array(need)
  if (need === inside.length) {
    chosen.set(inside)
    return chosen
  }
  lowCounts.fill(0)
  for (let j = 0; j < inside.length; j++) lowCounts[bits[inside[j]] & LOW_MASK]++
  let threshold = LOW_MASK
  let taken = 0
  while (taken + lowCounts[threshold] < need) taken += lowCounts[threshold--]
  // All above the threshold, and the first (lowest-index) `need - taken` equal to it.
  let ties = need - taken
  let c = 0
  for (let j = 0; j < inside.length; j++) {
    const low = bits[inside[j]] & LOW_MASK
    if (low > threshold || (low === threshold && ties-- > 0)) chosen[c++] = inside[j]
  }
  return chosen
}

function mergeAscending(a: Uint32Array, b: Uint32Array, out: Uint32Array): void {
  let i = 0
  let j = 0
  let o = 0
  while (i < a.length && j < b.length) out[o++] = a[i] < b[j] ? a[i++] : b[j++]
  while (i < a.length) out[o++] = a[i++]
  while (j < b.length) out[o++] = b[j++]
}

export function checkK(count: number, length: number): void {
  if (!Number.isSafeInteger(count) || count < 0 || count > length) {
    throw new InvalidOptionError(`top-k needs an integer k in [0, ${length}], got ${count}`)
  }
}

/** Exact top-k: the k values of largest magnitude and their indices, as a sparse payload. */
export const topk: Codec<TopKOptions> = {
  name: 'topk',
  encode(x: Float32Array, options: TopKOptions): Encoded {
    const indices = selectTopK(x, options.k)
    return encodeSparse(x, indices, indices.length, options)
  },
  decode: decodeSparse,
}
