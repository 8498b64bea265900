/**
 * One collective's messages on the receiving side. Before the collective starts here its messages
 * are kept as they come (a faster replica is ahead); once it starts, each expected message — by
 * phase, chunk, piece and sender — is handed to the waiting code exactly once, with the length and
 * codec the collective expects. Anything else is rejected with the reason; after it ends, whatever
 * comes is late.
 */
import type { WireCodec } from '@atoll/compress'
import type { SyncAddress, SyncPhase } from './edge.ts'

export type RejectionKind = 'late' | 'duplicate' | 'foreign' | 'malformed'

export interface Verdict {
  kind: RejectionKind
  reason: string
}

/** A sync message whose header passed the checks and whose payload decoded, finite. */
export interface Arrival {
  from: string
  round: number
  address: SyncAddress
  /** the piece (the header's `mb`) */
  piece: number
  codec: WireCodec
  values: Float32Array | Int32Array
  bytes: number
  edge: string
}

/** What the running collective waits for under one key. */
export interface Expectation {
  from: string
  length: number
  codec: WireCodec
  /**
   * 0: the sender needs nothing from anyone to send it; d + 1: it needs messages of depth d first.
   * At the deadline only the senders of the shallowest missing messages are named late.
   */
  depth: number
}

interface Waiting extends Expectation {
  received: boolean
  resolve(values: Float32Array): void
  reject(error: Error): void
}

export type SlotState = 'early' | 'active' | 'done'

export function pieceKey(phase: SyncPhase, chunk: number, piece: number, from: string): string {
  return `${phase}|${chunk}|${piece}|${from}`
}

export class CollectiveSlot {
  state: SlotState = 'early'
  /** arrivals kept until the collective asks for them, in arrival order per key */
  readonly stored = new Map<string, Arrival[]>()
  readonly #waiting = new Map<string, Waiting>()
  /** answers a notice: a reason when it is refused */
  onNotice: ((arrival: Arrival) => string | undefined) | undefined

  /** Waits for the message under `key`; an early copy that fits is taken now, unfitting ones rejected. */
  expect(
    key: string,
    expectation: Expectation,
    reject: (a: Arrival, v: Verdict) => void,
  ): Promise<Float32Array> {
    let resolve!: (values: Float32Array) => void
    let fail!: (error: Error) => void
    const promise = new Promise<Float32Array>((res, rej) => {
      resolve = res
      fail = rej
    })
    promise.catch(() => {}) // a collective that failed stops awaiting; its waits must not go unhandled
    this.#waiting.set(key, { ...expectation, received: false, resolve, reject: fail })
    for (const early of this.stored.get(key) ?? []) {
      const verdict = this.arrive(key, early)
      if (verdict !== undefined) reject(early, verdict)
    }
    this.stored.delete(key)
    return promise
  }

  /** Answers notices with `onNotice` from now on, and those that came early now. */
  listen(onNotice: (arrival: Arrival) => string | undefined, reject: (a: Arrival, v: Verdict) => void): void {
    this.onNotice = onNotice
    for (const [key, copies] of this.stored) {
      if (!key.startsWith('x|')) continue
      this.stored.delete(key)
      for (const early of copies) {
        const verdict = this.arrive(key, early)
        if (verdict !== undefined) reject(early, verdict)
      }
    }
  }

  /** Hands an arrival to its waiter; the verdict when it does not fit. */
  arrive(key: string, arrival: Arrival): Verdict | undefined {
    if (arrival.address.phase === 'x') {
      const refused = this.onNotice?.(arrival)
      return refused === undefined ? undefined : { kind: 'malformed', reason: refused }
    }
    const waiting = this.#waiting.get(key)
    const where = `${arrival.address.phase} chunk ${arrival.address.chunk} piece ${arrival.piece}`
    if (waiting === undefined)
      return { kind: 'foreign', reason: `${where} from ${arrival.from} is not expected` }
    if (waiting.received) return { kind: 'duplicate', reason: `a second copy of ${where}` }
    if (arrival.values.length !== waiting.length || arrival.codec !== waiting.codec) {
      const found = `${arrival.codec}[${arrival.values.length}]`
      return {
        kind: 'foreign',
        reason: `${where} should be ${waiting.codec}[${waiting.length}], is ${found}`,
      }
    }
    waiting.received = true
    waiting.resolve(arrival.values as Float32Array)
    return undefined
  }

  /** Rejects what came early and was not asked for (call once the collective declared its waits). */
  rejectUnexpected(reject: (a: Arrival, v: Verdict) => void): void {
    for (const copies of this.stored.values()) {
      for (const early of copies) {
        const where = `${early.address.phase} chunk ${early.address.chunk} piece ${early.piece}`
        reject(early, { kind: 'foreign', reason: `${where} from ${early.from} is not expected` })
      }
    }
    this.stored.clear()
  }

  /** Expectations still unmet: the senders a deadline names. */
  missing(): Expectation[] {
    return [...this.#waiting.values()].filter((w) => !w.received)
  }

  /** Forgets the waits of a collective that ended (its slot stays only to call later copies late). */
  release(): void {
    this.#waiting.clear()
    this.onNotice = undefined
  }

  /** Fails every wait still open (the collective failed). */
  failWaits(error: Error): void {
    for (const w of this.#waiting.values()) if (!w.received) w.reject(error)
  }
}
