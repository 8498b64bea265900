/**
 * The error-feedback residuals of one replica: per tensor name, per piece of what it sends (its
 * contributions to other members' chunks; the all-gather of the chunks it owns). A collective that
 * fails puts its residuals back as they were, so a round run again does not count its dropped values
 * twice. Residuals belong to one chunk layout: when the members or the layout change, a name's
 * residuals start from zero.
 */
import type { Encoded } from '@atoll/compress'
import { ErrorFeedback } from '@atoll/compress'
import { encodePiece, type SyncCompression } from './codec.ts'

/** `contribution`: what this member sent others, less what reached them; `gathered`: the same for the chunks it owns. */
export interface Residuals {
  contribution: Float32Array
  gathered: Float32Array
}

interface PieceKey {
  gathered: boolean
  start: number
}

interface NameState {
  fingerprint: string
  keys: Map<string, PieceKey>
  /** residuals as they were when the running collective began */
  saved: Map<string, Float32Array> | undefined
}

export class SyncFeedback {
  readonly #feedback = new ErrorFeedback()
  readonly #names = new Map<string, NameState>()

  /** A collective of `name` begins under `fingerprint`; another layout's residuals are dropped. */
  begin(name: string, fingerprint: string): void {
    const state = this.#names.get(name)
    if (state !== undefined && state.fingerprint !== fingerprint) this.reset(name)
    const current = this.#names.get(name) ?? { fingerprint, keys: new Map(), saved: undefined }
    current.saved = new Map()
    for (const key of current.keys.keys()) current.saved.set(key, this.#feedback.residual(key)!.slice())
    this.#names.set(name, current)
  }

  /** Encodes a piece that starts at element `start`; `gathered` for all-gather pieces. */
  encode(
    compression: SyncCompression,
    name: string,
    piece: Float32Array,
    where: { phase: string; start: number; gathered: boolean },
  ): Encoded {
    const key = `${name}|${where.phase}|${where.start}`
    if (compression.codec === 'topk') {
      this.#names.get(name)?.keys.set(key, { gathered: where.gathered, start: where.start })
    }
    return encodePiece(compression, piece, this.#feedback, key)
  }

  /** The collective ended: on failure the residuals go back to what they were when it began. */
  end(name: string, succeeded: boolean): void {
    const state = this.#names.get(name)
    if (state?.saved === undefined) return
    if (!succeeded) {
      for (const key of state.keys.keys()) {
        const before = state.saved.get(key)
        if (before === undefined) {
          this.#feedback.reset(key)
          state.keys.delete(key)
        } else this.#feedback.residual(key)!.set(before)
      }
    }
    state.saved = undefined
  }

  /** `name`'s residuals laid out over its `length` elements; undefined before top-k ever ran for it. */
  residuals(name: string, length: number): Residuals | undefined {
    const state = this.#names.get(name)
    if (state === undefined || state.keys.size === 0) return undefined
    const out = { contribution: new Float32Array(length), gathered: new Float32Array(length) }
    for (const [key, piece] of state.keys) {
      const residual = this.#feedback.residual(key)!
      ;(piece.gathered ? out.gathered : out.contribution).set(residual, piece.start)
    }
    return out
  }

  /** Forgets `name`'s residuals, or every name's. */
  reset(name?: string): void {
    for (const [each, state] of this.#names) {
      if (name !== undefined && each !== name) continue
      for (const key of state.keys.keys()) this.#feedback.reset(key)
      this.#names.delete(each)
    }
  }
}
