/**
 * The floor a node holds (see probe-floor.ts), from the moment every peer granted it until it ends:
 * given back (`release`), run out (its lease, counted from when the request left, so it ends no later
 * than any peer's), or refused on renewal (`extend`). Once ended, a hold is inert: a second release or
 * a late one sends nothing, so it cannot free a later hold of the same node. Its `signal` aborts when
 * it ends, which is how whatever runs on the floor (a probe, a measurement) learns it must stop.
 */
import { ProbeFloorError } from './errors.ts'
import type { PeerTarget } from './protocol.ts'

/** The longest lease: a holder that dies leaves its peers unable to probe for at most this long. */
export const MAX_FLOOR_MS = 120_000

/** The lease asked for when `ms` is wanted: whole milliseconds, at most MAX_FLOOR_MS. */
export function leaseMs(ms: number): number {
  return Math.min(Math.round(ms), MAX_FLOOR_MS)
}

/** One peer's answer to a request for the floor, as the asker reads it. */
export interface Verdict {
  peer: string
  /** 'failed': no usable answer (too slow, an error, a malformed answer); the peer may have granted it. */
  outcome: 'granted' | 'refused' | 'failed'
  /** Why not granted, in words: who holds that peer's floor, or what failed. */
  why?: string
}

/** The floor this node holds over `peers`, until it ends. */
export interface FloorHold {
  peers: PeerTarget[]
  /** Aborts, with a ProbeFloorError as its reason, when the hold ends. */
  signal: AbortSignal
  /**
   * Renews the lease on every peer for `ms` (a long measurement renews before each link). Throws the
   * hold's ProbeFloorError when it had already ended, and one naming the peer when a peer refused: the
   * hold then ends, and whatever ran on it must stop.
   */
  extend(ms: number): Promise<void>
  /** Gives the floor back on every peer; does nothing once the hold has ended. */
  release(): Promise<void>
}

/** What a hold needs of the floor it was granted by. */
export interface HoldTerms {
  peers: PeerTarget[]
  /** Asks every peer for the floor for `ms` (a lease, see `leaseMs`) again. */
  renew(ms: number): Promise<Verdict[]>
  /** Gives the floor back on every peer, then lets the node grant and ask again. */
  giveBack(): Promise<void>
}

export class Hold implements FloorHold {
  readonly peers: PeerTarget[]
  private readonly terms: HoldTerms
  private readonly controller = new AbortController()
  private timer: ReturnType<typeof setTimeout> | undefined
  private renewing: Promise<unknown> = Promise.resolve()
  private ended: Promise<void> | undefined

  /** `askedAt`: when the request that was granted left (ms since the epoch); `ms`: its lease. */
  constructor(terms: HoldTerms, askedAt: number, ms: number) {
    this.terms = terms
    this.peers = terms.peers
    this.lapseAt(askedAt + ms, ms)
  }

  get signal(): AbortSignal {
    return this.controller.signal
  }

  async extend(wantedMs: number): Promise<void> {
    this.signal.throwIfAborted()
    const ms = leaseMs(wantedMs)
    const askedAt = Date.now()
    const renewing = this.terms.renew(ms)
    this.renewing = renewing
    const verdicts = await renewing
    this.signal.throwIfAborted()
    const refusal = verdicts.find((v) => v.outcome !== 'granted')
    if (refusal !== undefined) {
      const err = new ProbeFloorError(
        `${refusal.peer} did not extend this node's probe floor: ${refusal.why}`,
      )
      await this.end(err)
      throw err
    }
    this.lapseAt(askedAt + ms, ms)
  }

  release(): Promise<void> {
    return this.end(new ProbeFloorError('the probe floor was given back'))
  }

  /** Ends the hold once: aborts its signal, then gives the floor back (after a renewal in flight). */
  private end(reason: ProbeFloorError): Promise<void> {
    if (this.ended === undefined) {
      clearTimeout(this.timer)
      this.controller.abort(reason)
      // a renewal answered after the give-back would grant the floor to a node that no longer holds it
      this.ended = this.renewing.then(
        () => this.terms.giveBack(),
        () => this.terms.giveBack(),
      )
    }
    return this.ended
  }

  private lapseAt(until: number, ms: number): void {
    clearTimeout(this.timer)
    const lapse = new ProbeFloorError(`the probe floor's lease of ${ms} ms ran out`)
    this.timer = setTimeout(() => void this.end(lapse), Math.max(0, until - Date.now()))
    // a hold left unreleased must not keep a process alive; its lease is over anyway
    this.timer.unref?.()
  }
}
