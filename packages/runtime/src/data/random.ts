/**
 * A seeded random source (xoshiro128**, seeded through splitmix32), so that shuffles, shards and
 * non-IID partitions are identical on every peer and every run given the same seed. Math.random
 * cannot be seeded, and peers must agree on who holds which sample without exchanging lists.
 */
export interface Random {
  /** uniform in [0, 1) with 53 random bits */
  float(): number
  /** uniform integer in [0, n) */
  int(n: number): number
  /** standard normal N(0, 1) */
  normal(): number
  /** log of a Gamma(shape, 1) sample: stays finite for tiny shapes, where the sample itself underflows */
  logGamma(shape: number): number
}

const TWO_POW_26 = 67108864
const TWO_POW_53 = 9007199254740992

/** Combines a seed with extra integers (epoch, peer, class) into one 32-bit seed. */
export function mixSeed(seed: number, ...more: number[]): number {
  let h = splitmix32(seed >>> 0)
  for (const m of more) h = splitmix32((h ^ (m >>> 0)) >>> 0)
  return h
}

function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) >>> 0
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
  return (z ^ (z >>> 16)) >>> 0
}

export function createRandom(seed: number): Random {
  let a = splitmix32(seed >>> 0)
  let b = splitmix32(a)
  let c = splitmix32(b)
  let d = splitmix32(c)
  if ((a | b | c | d) === 0) a = 1 // the all-zero state is a fixed point of xoshiro
  const next = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0
    const t = b << 9
    c ^= a
    d ^= b
    b ^= c
    a ^= d
    c ^= t
    d = rotl(d, 11)
    return result
  }
  const float = () => ((next() >>> 5) * TWO_POW_26 + (next() >>> 6)) / TWO_POW_53
  const normal = () => {
    // Box–Muller; 1 − u keeps the logarithm's argument in (0, 1]
    const u = 1 - float()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * float())
  }
  const logGamma = (shape: number): number => {
    if (!(shape > 0)) throw new RangeError(`gamma shape must be > 0, got ${shape}`)
    // shape < 1: Gamma(α) = Gamma(α + 1) · U^(1/α), done in logs (U^(1/α) underflows for α ≪ 1)
    if (shape < 1) return logGamma(shape + 1) + Math.log(1 - float()) / shape
    return Math.log(marsagliaTsang(shape, normal, float))
  }
  return { float, int: (n) => Math.floor(float() * n), normal, logGamma }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}

/** Marsaglia & Tsang (2000), "A simple method for generating gamma variables", for shape ≥ 1. */
function marsagliaTsang(shape: number, normal: () => number, float: () => number): number {
  const d = shape - 1 / 3
  const c = 1 / Math.sqrt(9 * d)
  for (;;) {
    const x = normal()
    const v0 = 1 + c * x
    if (v0 <= 0) continue
    const v = v0 * v0 * v0
    const u = 1 - float()
    if (u < 1 - 0.0331 * x ** 4) return d * v
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v
  }
}

/** A Dirichlet(α·1) sample of `k` probabilities, computed from log-gammas so tiny α never gives 0/0. */
export function dirichlet(random: Random, alpha: number, categories: number): Float64Array {
  const logs = new Float64Array(categories)
  let max = -Infinity
  for (let i = 0; i < categories; i++) {
    logs[i] = random.logGamma(alpha)
    if (logs[i] > max) max = logs[i]
  }
  let sum = 0
  for (let i = 0; i < categories; i++) {
    logs[i] = Math.exp(logs[i] - max)
    sum += logs[i]
  }
  for (let i = 0; i < categories; i++) logs[i] /= sum
  return logs
}

/** A uniformly random permutation of 0…n−1 (Fisher–Yates). */
export function permutation(length: number, seed: number): Uint32Array {
  const out = new Uint32Array(length)
  for (let i = 0; i < length; i++) out[i] = i
  shuffleInPlace(out, createRandom(seed))
  return out
}

export function shuffleInPlace(values: Uint32Array, random: Random): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = random.int(i + 1)
    const t = values[i]
    values[i] = values[j]
    values[j] = t
  }
}
