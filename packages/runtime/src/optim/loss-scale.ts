/**
 * Dynamic loss scaling for float16 training, as PyTorch's GradScaler does it: the loss's gradient
 * seed is multiplied by a scale so that small gradients survive float16's range in backward; the
 * gradients are divided by it before the optimizer sees them. A step whose gradients overflowed
 * (not finite) is skipped and the scale halved; after `growthInterval` good steps in a row it doubles.
 */
import { NonFiniteGradientError, OptimizerConfigError } from '../errors.ts'
import type { Parameter } from './parameter.ts'

export interface LossScaleOptions {
  /** PyTorch's default 2^16 */
  initial?: number
  /** good steps before the scale doubles (PyTorch's default 2000) */
  growthInterval?: number
}

/** Below this the gradients are not finite even unscaled: float16 cannot be the cause. */
const SMALLEST_SCALE = 2 ** -24

export class DynamicLossScale {
  #scale: number
  #good = 0
  readonly #growthInterval: number

  constructor(options: LossScaleOptions = {}) {
    const { initial = 2 ** 16, growthInterval = 2000 } = options
    if (!(initial > 0 && Number.isFinite(initial)))
      throw new OptimizerConfigError(`a loss scale must be a finite number > 0, got ${initial}`)
    if (!Number.isInteger(growthInterval) || growthInterval < 1)
      throw new OptimizerConfigError(
        `the loss scale's growth interval must be a whole number ≥ 1, got ${growthInterval}`,
      )
    this.#scale = initial
    this.#growthInterval = growthInterval
  }

  get scale(): number {
    return this.#scale
  }

  /**
   * Divides every gradient by the scale and moves the scale on: true when the gradients are finite
   * (the optimizer may step), false when they overflowed (skip the step; the scale was halved).
   */
  unscale(params: readonly Parameter[]): boolean {
    const inverse = 1 / this.#scale
    let finite = true
    for (const p of params) {
      const g = p.grad
      for (let i = 0; i < g.length; i++) {
        const v = g[i] * inverse
        g[i] = v
        if (!Number.isFinite(v)) finite = false
      }
    }
    if (finite) {
      this.#good++
      if (this.#good === this.#growthInterval) {
        this.#scale *= 2
        this.#good = 0
      }
      return true
    }
    this.#good = 0
    this.#scale /= 2
    if (this.#scale < SMALLEST_SCALE)
      throw new NonFiniteGradientError(
        `the gradients stayed infinite or NaN with the loss scale below 2^-24: the loss itself is not finite`,
      )
    return false
  }
}
