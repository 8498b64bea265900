import { TOPK_SAMPLE_SIZE } from '../constants.ts'
import { InvalidOptionError } from '../errors.ts'
import type { Codec, Encoded } from './encoded.ts'
import { decodeSparse, encodeSparse, type SparseEntries } from './sparse.ts'
import { checkK, selectTopK, type TopKOptions } from './topk.ts'

export interface TopKSampledOptions extends TopKOptions {
  /** elements drawn to estimate the threshold (default 16,384) */
  sampleSize?: number
  /** seed of the sample positions (default 1): the same input and seed keep the same values */
  seed?: number
}

/**
 * Below this many sampled elements above the threshold the estimate is too coarse (k would be
 * missed by a large factor), so the exact selection is used instead; at 16,384 samples this is
 * k < n / 512.
 */
const MIN_SAMPLED_ABOVE = 32

/**
 * Indices (ascending) of ≈ k elements of largest magnitude: those reaching a threshold estimated
 * from a sample, in one pass over x (plus a sort of the sample), trimmed to the exact top k when
 * more than k reach it (which the threshold is set low for, so the result is usually exactly k).
 */
export function selectSampled(input: Float32Array, options: TopKSampledOptions): Uint32Array {
  const n = input.length
  const { k } = options
  checkK(k, n)
  const sampleSize = options.sampleSize ?? TOPK_SAMPLE_SIZE
  if (!Number.isSafeInteger(sampleSize) || sampleSize < 1) {
    throw new InvalidOptionError(`sampleSize must be an integer ≥ 1, got ${sampleSize}`)
  }
  const m = Math.min(n, sampleSize)
  if (k === 0 || k === n) return selectTopK(input, k)
  const aboveInSample = Math.ceil((k * m) / n)
  if (aboveInSample < MIN_SAMPLED_ABOVE) return selectTopK(input, k)
  // Aim 3 standard deviations low (the sampled rank is ≈ Poisson), so that at least k are
  // collected all but rarely; then the exact top k of those few are kept.
  const rank = Math.min(m, aboveInSample + Math.ceil(3 * Math.sqrt(aboveInSample)))
  const threshold = sampleThreshold(
    new Uint32Array(input.buffer, input.byteOffset, n),
    m,
    rank,
    options.seed ?? 1,
  )
  const { indices, values } = collectAbove(input, threshold, Math.ceil((rank * n) / m))
  if (indices.length <= k) return indices
  // Every element not collected is below the threshold and every collected one reaches it, so
  // with at least k collected, their top k is exactly the top k of x (ties to the lower index).
  const chosen = selectTopK(values, k)
  for (let j = 0; j < k; j++) chosen[j] = indices[chosen[j]]
  return chosen
}

/** The magnitude bits of the `rank`-th largest of m sampled elements. */
function sampleThreshold(bits: Uint32Array, m: number, rank: number, seed: number): number {
  const sample = new Uint32Array(m)
  let state = seed >>> 0 || 1
  const n = bits.length
  for (let s = 0; s < m; s++) {
    // xorshift32: positions spread over the whole tensor, reproducible from the seed.
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    sample[s] = bits[(state >>> 0) % n] & 0x7fffffff
  }
  sample.sort()
  // A zero threshold would keep every zero, which carries nothing: keep only non-zeros then.
  return Math.max(sample[m - rank], 1)
}

/**
 * One pass: the index and value of every element whose magnitude bits reach the threshold (values
 * taken in the same pass, so trimming needs no scattered reads of x), in buffers grown on demand.
 */
function collectAbove(x: Float32Array, threshold: number, expected: number): SparseEntries {
  const n = x.length
  const bits = new Uint32Array(x.buffer, x.byteOffset, n)
  // 25 % headroom over the expected count absorbs the sampling error; beyond it the buffers double.
  let indices = new Uint32Array(Math.min(n, expected + (expected >>> 2) + 64))
  let values = new Uint32Array(indices.length)
  let count = 0
  let i = 0
  for (;;) {
    const cap = indices.length
    for (; i < n; i++) {
      const w = bits[i]
      if ((w & 0x7fffffff) >= threshold) {
        if (count === cap) break
        values[count] = w
        indices[count++] = i
      }
    }
    if (i === n) {
      return { indices: indices.subarray(0, count), values: new Float32Array(values.buffer, 0, count) }
    }
    const size = Math.min(n, 2 * cap)
    indices = grow(indices, size)
    values = grow(values, size)
  }
}

function grow(array: Uint32Array, size: number): Uint32Array<ArrayBuffer> {
  const grown = new Uint32Array(size)
  grown.set(array)
  return grown
}

/** Sampled-threshold top-k: ≈ k (usually exactly k) values of largest magnitude, as a sparse payload. */
export const topkSampled: Codec<TopKSampledOptions> = {
  name: 'topk-sampled',
  encode(x: Float32Array, options: TopKSampledOptions): Encoded {
    const indices = selectSampled(x, options)
    return encodeSparse(x, indices, indices.length, options)
  },
  decode: decodeSparse,
}
