import { decodeEncoded } from './codecs/decode.ts'
import type { Encoded } from './codecs/encoded.ts'
import { decodeSparseEntries } from './codecs/sparse.ts'
import { InvalidOptionError } from './errors.ts'

/** What ErrorFeedback compresses with: any codec's encode, options bound by the caller. */
export type Compressor = (x: Float32Array) => Encoded

/**
 * Error feedback (residual memory) per tensor name: step sends C(g + e) and keeps
 * e ← g + e − D(C(g + e)), so what a lossy codec drops is sent later rather than lost; over T
 * steps the sum of what was sent approaches the sum of the inputs.
 */
export class ErrorFeedback {
  readonly #residuals = new Map<string, Float32Array>()
  /** g + e per tensor, reused every step (a fresh n-float buffer costs page faults each step) */
  readonly #accumulators = new Map<string, Float32Array>()

  /** Compresses `gradient` plus the residual of `name` and updates that residual. */
  step(name: string, gradient: Float32Array, compress: Compressor): Encoded {
    let residual = this.#residuals.get(name)
    if (residual === undefined) {
      residual = new Float32Array(gradient.length)
      this.#residuals.set(name, residual)
    } else if (residual.length !== gradient.length) {
      throw new InvalidOptionError(
        `${name} has ${residual.length} elements of residual, gradient has ${gradient.length}`,
      )
    }
    let acc = this.#accumulators.get(name)
    if (acc === undefined || acc.length !== gradient.length) {
      acc = new Float32Array(gradient.length)
      this.#accumulators.set(name, acc)
    }
    for (let i = 0; i < acc.length; i++) acc[i] = gradient[i] + residual[i]
    let encoded = compress(acc)
    if (encoded.length !== acc.length) {
      throw new InvalidOptionError(`compressor returned ${encoded.length} elements for ${acc.length}`)
    }
    // A codec may return a view of its input (raw does): the accumulator is reused next step, so
    // such a payload is copied out of it.
    if (encoded.payload.buffer === acc.buffer) encoded = { ...encoded, payload: encoded.payload.slice() }
    if (encoded.codec === 'sparse') {
      // Only the kept entries change: no dense decode needed.
      residual.set(acc)
      const { indices, values } = decodeSparseEntries(encoded)
      for (let j = 0; j < indices.length; j++) residual[indices[j]] -= values[j]
    } else {
      const sent = decodeEncoded(encoded)
      for (let i = 0; i < acc.length; i++) residual[i] = acc[i] - sent[i]
    }
    return encoded
  }

  /** The residual kept for `name` (a live view; undefined before its first step). */
  residual(name: string): Float32Array | undefined {
    return this.#residuals.get(name)
  }

  /** Forgets the residual of `name`, or of every tensor (e.g. after a re-plan changed shapes). */
  reset(name?: string): void {
    if (name === undefined) {
      this.#residuals.clear()
      this.#accumulators.clear()
    } else {
      this.#residuals.delete(name)
      this.#accumulators.delete(name)
    }
  }
}
