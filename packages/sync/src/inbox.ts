/**
 * A group's incoming sync messages, filed by (round, collective name, layout fingerprint) and then
 * by (phase, chunk, piece, sender). A round before the current one is late, one beyond the next is
 * foreign; collectives this replica has not started yet are kept, within a byte budget (also another
 * layout's of a round and name that runs here: a retry's). Every rejected message is reported with
 * its reason and never mixed into a sum.
 */
import { MAX_EARLY_COPIES } from './constants.ts'
import { RoundOrderError } from './errors.ts'
import type { SyncAddress } from './edge.ts'
import { type Arrival, CollectiveSlot, pieceKey, type Verdict } from './slot.ts'

const slotKey = (round: number, name: string, fingerprint: string) => `${round}|${name}|${fingerprint}`

export class SyncInbox {
  #round: number
  readonly #slots = new Map<string, CollectiveSlot>()
  /** the round and name of each running collective */
  readonly #running = new Set<string>()
  #earlyBytes = 0
  readonly #maxEarlyBytes: number
  readonly #reject: (arrival: Arrival, verdict: Verdict) => void

  constructor(round: number, maxEarlyBytes: number, reject: (arrival: Arrival, verdict: Verdict) => void) {
    this.#round = round
    this.#maxEarlyBytes = maxEarlyBytes
    this.#reject = reject
  }

  get round(): number {
    return this.#round
  }

  /** Why a message of `round` at `address` is refused before its payload is read, if it is. */
  checkRound(round: number, address: SyncAddress): Verdict | undefined {
    const slot = this.#slots.get(slotKey(round, address.name, address.fingerprint))
    if (slot?.state === 'active') return undefined
    if (slot?.state === 'done')
      return { kind: 'late', reason: `round ${round} '${address.name}' has ended here` }
    if (round < this.#round)
      return { kind: 'late', reason: `round ${round} is before this round (${this.#round})` }
    if (round > this.#round + 1) {
      return { kind: 'foreign', reason: `round ${round} is beyond this round (${this.#round}) and the next` }
    }
    return undefined
  }

  /** Files an arrival; the verdict when it is rejected. */
  file(arrival: Arrival): Verdict | undefined {
    const { round, address } = arrival
    const refused = this.checkRound(round, address)
    if (refused !== undefined) return refused
    const slot = this.#slotFor(round, address)
    const key = pieceKey(address.phase, address.chunk, arrival.piece, arrival.from)
    if (slot.state === 'active') return slot.arrive(key, arrival)
    const copies = slot.stored.get(key) ?? []
    if (copies.length >= MAX_EARLY_COPIES)
      return { kind: 'duplicate', reason: `${copies.length} copies already kept` }
    if (this.#earlyBytes + arrival.bytes > this.#maxEarlyBytes) {
      return { kind: 'foreign', reason: `${this.#earlyBytes} bytes of messages are already kept for later` }
    }
    this.#earlyBytes += arrival.bytes
    slot.stored.set(key, [...copies, arrival])
    return undefined
  }

  /**
   * Starts a collective here: its slot becomes active (early copies are taken as it declares what
   * it waits for). Messages of the same round and name under another layout are kept: they are
   * another member's retry without members it found late, which this member may run next (had it
   * dropped them, its retry would wait for them in vain). What the round never uses is rejected
   * when the round ends here.
   */
  open(round: number, name: string, fingerprint: string): CollectiveSlot {
    const key = slotKey(round, name, fingerprint)
    const slot = this.#slots.get(key) ?? new CollectiveSlot()
    if (round < this.#round) throw new RoundOrderError(`round ${round} is before this round (${this.#round})`)
    if (slot.state !== 'early')
      throw new RoundOrderError(`round ${round} '${name}' already ran with this layout`)
    if (this.#running.has(`${round}|${name}`))
      throw new RoundOrderError(`round ${round} '${name}' is running`)
    if (round > this.#round) this.advance(round)
    this.#earlyBytes -= storedBytes(slot)
    slot.state = 'active'
    this.#slots.set(key, slot)
    this.#running.add(`${round}|${name}`)
    return slot
  }

  /** The collective ended: later messages are late, and what it never asked for is rejected. */
  close(round: number, name: string, fingerprint: string, slot: CollectiveSlot): void {
    slot.state = 'done'
    slot.release()
    this.#running.delete(`${round}|${name}`)
    for (const copies of slot.stored.values()) {
      for (const arrival of copies)
        this.#reject(arrival, { kind: 'foreign', reason: 'not expected by its collective' })
    }
    slot.stored.clear()
    this.#slots.set(slotKey(round, name, fingerprint), slot)
  }

  #slotFor(round: number, address: SyncAddress): CollectiveSlot {
    const key = slotKey(round, address.name, address.fingerprint)
    let slot = this.#slots.get(key)
    if (slot === undefined) {
      slot = new CollectiveSlot()
      this.#slots.set(key, slot)
    }
    return slot
  }

  /** Moves on to `round` (never back): what earlier rounds kept and never used is late; running collectives go on. */
  advance(round: number): void {
    if (round <= this.#round) return
    this.#round = round
    for (const [key, slot] of this.#slots) {
      if (Number(key.split('|')[0]) >= round || slot.state === 'active') continue
      this.#drop(key, slot, 'late', `round ${key.split('|')[0]} ended before it was used`)
    }
  }

  #drop(key: string, slot: CollectiveSlot, kind: Verdict['kind'], reason: string): void {
    this.#earlyBytes -= storedBytes(slot)
    for (const copies of slot.stored.values())
      for (const arrival of copies) this.#reject(arrival, { kind, reason })
    this.#slots.delete(key)
  }
}

function storedBytes(slot: CollectiveSlot): number {
  let bytes = 0
  for (const copies of slot.stored.values()) for (const arrival of copies) bytes += arrival.bytes
  return bytes
}
