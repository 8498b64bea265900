import { TOPK_SAMPLE_SIZE } from '../constants.ts'
import { InvalidOptionError } from '../errors.ts'
import type { Codec, Encoded } from './encoded.ts'
import { decodeSparse, encodeSparse } from './sparse.ts'
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
 * Indices (ascending) of the elements whose magnitude reaches a threshold estimated from a sample:
 * ≈ k of them, in one pass over x (plus a sort of the sample).
 */
export function selectSampled(x: Float32Array, options: TopKSampledOptions): Uint32Array {
  const n = x.length
  const { k } = options
  checkK(k, n)
  const sampleSize = options.sampleSize ?? TOPK_SAMPLE_SIZE
  if (!Number.isSafeInteger(sampleSize) || sampleSize < 1) {
    throw new InvalidOptionError(`sampleSize must be an integer ≥ 1, got ${sampleSize}`)
  }
  const m = Math.min(n, sampleSize)
  if (k === 0 || k === n) return selectTopK(x, k)
  const aboveInSample = Math.ceil((k * m) / n)
  if (aboveInSample < MIN_SAMPLED_ABOVE) return selectTopK(x, k)
  const bits = new Uint32Array(x.buffer, x.byteOffset, n)
  const threshold = sampleThreshold(bits, m, aboveInSample, options.seed ?? 1)
  return collectAbove(bits, threshold, k)
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

/** One pass: every index whose magnitude bits reach the threshold, in a buffer grown on demand. */
function collectAbove(bits: Uint32Array, threshold: number, k: number): Uint32Array {
  const n = bits.length
  // 25 % headroom over k absorbs the sampling error; beyond it the buffer doubles.
  let out = new Uint32Array(Math.min(n, k + (k >>> 2) + 64))
  let count = 0
  let i = 0
  for (;;) {
    const cap = out.length
    for (; i < n; i++) {
      if ((bits[i] & 0x7fffffff) >= threshold) {
        if (count === cap) break
        out[count++] = i
      }
    }
    if (i === n) return out.subarray(0, count)
    const grown = new Uint32Array(Math.min(n, 2 * cap))
    grown.set(out)
    out = grown
  }
}

/** Sampled-threshold top-k: ≈ k values of largest magnitude, as a sparse payload. */
export const topkSampled: Codec<TopKSampledOptions> = {
  name: 'topk-sampled',
  encode(x: Float32Array, options: TopKSampledOptions): Encoded {
    const indices = selectSampled(x, options)
    return encodeSparse(x, indices, indices.length, options)
  },
  decode: decodeSparse,
}
