/** Deterministic randomness for tests: core's seeded generator, and normals by Box–Muller. */
import { seededRandom } from '@atoll/core'

export const rng = seededRandom

export function normals(n: number, seed: number, scale = 1): Float32Array {
  const random = rng(seed)
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    out[i] = scale * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
  }
  return out
}

/** Float32 values from bit patterns. */
export function fromBits(...bits: number[]): Float32Array {
  return new Float32Array(Uint32Array.from(bits).buffer)
}

/** Inputs every codec must survive: empty, one element, non-finite, signed zero, subnormals. */
export const EDGE_CASES: Record<string, Float32Array> = {
  empty: new Float32Array(0),
  one: Float32Array.of(-1.25),
  nan: Float32Array.of(1, Number.NaN, -2),
  infinities: Float32Array.of(Number.POSITIVE_INFINITY, 0.5, Number.NEGATIVE_INFINITY, -0.25),
  negativeZero: Float32Array.of(-0, 0, -0),
  subnormals: fromBits(0x00000001, 0x80000010, 0x007fffff, 0x00400000),
  equalMagnitudes: Float32Array.of(3, -3, 3, 3, -3, -3, 3),
  notBlockMultiple: normals(1000, 7),
}
