/**
 * Deterministic, seeded parameter initialisation with PyTorch's default schemes, so that a model
 * built twice with one seed is bit-identical on every platform (no Math.random).
 */
import { numel, type Tensor, tensor } from '../tensor.ts'

/** SplitMix64-style 32-bit generator (mulberry32): tiny, fast, and good enough for weights. */
export class Rng {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  /** uniform in [0, 1) */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * The same generator as a function, uniform in [0, 1): the one seeded PRNG of the workspace for
 * reproducible shuffles, random baselines and test data (browser-safe, no Math.random).
 */
export function seededRandom(seed: number): () => number {
  const rng = new Rng(seed)
  return () => rng.next()
}

/** How a parameter starts. `fanIn` bounds follow PyTorch's kaiming_uniform(a=√5) default for Linear/Conv. */
export type Init =
  | { kind: 'uniform'; bound: number }
  | { kind: 'normal'; std: number }
  | { kind: 'constant'; value: number }

export const init = {
  /** PyTorch's Linear/Conv default: U(-1/√fan_in, 1/√fan_in), for weights and biases alike */
  fanIn: (fanIn: number): Init => ({ kind: 'uniform', bound: 1 / Math.sqrt(fanIn) }),
  normal: (std: number): Init => ({ kind: 'normal', std }),
  zeros: (): Init => ({ kind: 'constant', value: 0 }),
  ones: (): Init => ({ kind: 'constant', value: 1 }),
}

/** A float32 tensor drawn from `how`. */
export function initTensor(shape: number[], how: Init, rng: Rng): Tensor<'float32'> {
  const data = new Float32Array(numel(shape))
  if (how.kind === 'constant') data.fill(how.value)
  else if (how.kind === 'uniform') {
    for (let i = 0; i < data.length; i++) data[i] = (2 * rng.next() - 1) * how.bound
  } else {
    // Box-Muller, two normals per pair of uniforms
    for (let i = 0; i < data.length; i += 2) {
      const r = Math.sqrt(-2 * Math.log(1 - rng.next())) * how.std
      const a = 2 * Math.PI * rng.next()
      data[i] = r * Math.cos(a)
      if (i + 1 < data.length) data[i + 1] = r * Math.sin(a)
    }
  }
  return tensor('float32', shape, data)
}
