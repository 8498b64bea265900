/**
 * One collective as it runs on one member: what it waits for (declared before it starts, so early
 * copies are taken or refused), what it sends, and its deadline. At the deadline the senders of the
 * missing messages that needed nothing from anyone are late; if only messages that depend on others
 * are missing (an owner's sum waits for someone else), the member waits a little longer for the
 * notice in which that owner names who it waited on, and names the owner only if none comes. A
 * member that gives up tells every other member whom it found late, so that all of them fail with
 * the same names instead of each timing out on its neighbour; a member that finds every other
 * member late names itself.
 */
import type { Encoded } from '@atoll/compress'
import { parseWith } from '@atoll/core'
import * as z from 'zod/mini'
import { type SyncCompression, wireCodecOf } from './codec.ts'
import { syncEdge, type SyncPhase } from './edge.ts'
import { LateReplicaError, SyncMessageError } from './errors.ts'
import type { SyncFeedback } from './feedback.ts'
import type { Piece } from './geometry.ts'
import { Outbox, type SendMessage } from './outbox.ts'
import { type Arrival, type CollectiveSlot, pieceKey, type Verdict } from './slot.ts'

export interface RunInit {
  group: string
  members: readonly string[]
  self: number
  round: number
  name: string
  fingerprint: string
  compression: SyncCompression
  pieceElements: number
  feedback: SyncFeedback
  slot: CollectiveSlot
  send: SendMessage
  sendsInFlight: number
  /** seconds until the senders of missing independent messages are late */
  deadlineSeconds: number
  /** further seconds to wait for another member's notice when only dependent messages are missing */
  noticeSeconds: number
  reject: (arrival: Arrival, verdict: Verdict) => void
}

export class CollectiveRun {
  readonly init: RunInit
  readonly outbox: Outbox
  readonly #controller = new AbortController()
  readonly #failed: Promise<never>
  #fail!: (error: Error) => void
  #over = false
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(init: RunInit) {
    this.init = init
    this.#failed = new Promise<never>((_, reject) => {
      this.#fail = reject
    })
    this.#failed.catch(() => {})
    const lateSend = (to: string, error: Error) =>
      this.#late(
        [init.members.indexOf(to)],
        `could not send to it: ${error.name}: ${error.message}`,
        true,
        error,
      )
    this.outbox = new Outbox(init.send, init.sendsInFlight, this.#controller.signal, lateSend)
    init.slot.listen((arrival) => this.#notice(arrival), init.reject)
  }

  /** The wire codec of a phase's messages: compressed phases use the collective's codec. */
  codec(compressed: boolean): Encoded['codec'] {
    return compressed ? wireCodecOf(this.init.compression) : 'raw'
  }

  /** Waits for `piece` of `chunk` in `phase` from member `from`. */
  expect(phase: SyncPhase, chunk: number, piece: Piece, from: number, depth: number, compressed: boolean) {
    const key = pieceKey(phase, chunk, piece.index, this.init.members[from])
    const expectation = {
      from: this.init.members[from],
      length: piece.end - piece.start,
      codec: this.codec(compressed),
      depth,
    }
    return this.init.slot.expect(key, expectation, this.init.reject)
  }

  /** Queues a piece to member `to`; `encoded` may be built only when its turn comes. */
  send(to: number, phase: SyncPhase, chunk: number, piece: number, encoded: Encoded | (() => Encoded)): void {
    const { group, round, fingerprint, name, members } = this.init
    const edge = syncEdge({ fingerprint, phase, chunk, name })
    this.outbox.push(members[to], () => {
      const e = typeof encoded === 'function' ? encoded() : encoded
      const fields = {
        job: group,
        step: round,
        mb: piece,
        edge,
        dtype: 'float32' as const,
        shape: [e.length],
      }
      return { fields: { ...fields, codec: e.codec, codecMeta: e.codecMeta }, encoded: e }
    })
  }

  /** A piece as it travels: compressed (top-k through this member's residuals) or a view of it. */
  encode(
    piece: Float32Array,
    where: { phase: SyncPhase; start: number; gathered: boolean },
    compressed: boolean,
  ) {
    const compression: SyncCompression = compressed ? this.init.compression : { codec: 'none' }
    return this.init.feedback.encode(compression, this.init.name, piece, where)
  }

  /** Runs `work` under the deadline; resolves when it is done and everything it sent was received. */
  async execute(work: () => Promise<Float32Array>): Promise<Float32Array> {
    this.init.slot.rejectUnexpected(this.init.reject)
    this.#timer = setTimeout(() => this.#deadline(false), this.init.deadlineSeconds * 1000)
    const done = (async () => {
      const result = await work()
      await this.outbox.idle()
      return result
    })()
    try {
      return await Promise.race([done, this.#failed])
    } finally {
      this.#over = true
      clearTimeout(this.#timer)
    }
  }

  /** Fails the collective with `error` (the group closed, say): no notice is sent. */
  abort(error: Error): void {
    if (this.#over) return
    this.#over = true
    clearTimeout(this.#timer)
    this.#controller.abort(error)
    this.init.slot.failWaits(error)
    this.#fail(error)
  }

  #deadline(extended: boolean): void {
    const missing = this.init.slot.missing()
    const shallowest = Math.min(...missing.map((m) => m.depth))
    if (!extended && (missing.length === 0 || shallowest > 0)) {
      this.#timer = setTimeout(() => this.#deadline(true), this.init.noticeSeconds * 1000)
      return
    }
    const seconds = this.init.deadlineSeconds + (extended ? this.init.noticeSeconds : 0)
    if (missing.length === 0) {
      const slow = this.outbox.unacknowledged().map((id) => this.init.members.indexOf(id))
      if (slow.length > 0) this.#late(slow, `did not take what was sent within ${seconds.toFixed(3)} s`, true)
      // nothing missing and nothing unsent: the work is finishing; look again rather than never
      else this.#timer = setTimeout(() => this.#deadline(true), this.init.noticeSeconds * 1000)
      return
    }
    const late = missing.filter((m) => m.depth === shallowest).map((m) => this.init.members.indexOf(m.from))
    this.#late(late, `sent nothing awaited within ${seconds.toFixed(3)} s`, true)
  }

  #late(indices: readonly number[], detail: string, notify: boolean, cause?: Error): void {
    if (this.#over) return
    const { members, round, name, self } = this.init
    let sorted = [...new Set(indices)].filter((i) => i >= 0).sort((a, b) => a - b)
    // every other member late (found here, not reported): alone, this member could not complete
    // the round, and the others may still complete it without it, so it is the late one. Naming
    // them instead would make each of them, when it comes, find itself named and sit the round
    // out: no one would complete it.
    if (notify && sorted.length === members.length - 1 && !sorted.includes(self)) {
      detail = `every other member ${detail}: this member is the one out of step`
      sorted = [self]
    }
    const peers = sorted.map((i) => members[i])
    this.abort(new LateReplicaError(peers, round, name, detail, cause && { cause }))
    if (notify && sorted.length > 0) this.#tell(sorted)
  }

  /** Tells every other member whom this one found late (best effort: a notice that fails is let go). */
  #tell(late: readonly number[]): void {
    const { group, round, fingerprint, name, members, self, send, noticeSeconds } = this.init
    const edge = syncEdge({ fingerprint, phase: 'x', chunk: 0, name })
    const fields = { job: group, step: round, mb: 0, edge, dtype: 'int32' as const, codec: 'raw' as const }
    const payload = new Uint8Array(Int32Array.from(late).buffer)
    for (const [i, peer] of members.entries()) {
      if (i === self) continue
      // AbortSignal.timeout takes whole milliseconds (a fraction throws, in a timer: the process dies)
      const signal = AbortSignal.timeout(Math.max(1, Math.ceil(noticeSeconds * 1000)))
      send(peer, { ...fields, shape: [late.length], codecMeta: {} }, payload, signal).catch(() => {})
    }
  }

  /** Another member gave up: fail with its names. A reason when the notice does not parse. */
  #notice(arrival: Arrival): string | undefined {
    const n = this.init.members.length
    const schema = z.array(z.int().check(z.gte(0), z.lt(n))).check(z.minLength(1))
    let late: number[]
    try {
      late = parseWith(schema, Array.from(arrival.values), SyncMessageError, { root: 'notice' })
    } catch (err) {
      return (err as Error).message
    }
    this.#late(late, `reported by ${arrival.from}`, false)
    return undefined
  }
}
