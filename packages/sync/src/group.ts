/**
 * A replica's place in a group of replicas that synchronise over the mesh: the members (the same
 * ordered list on every replica), the measured links between them, the rounds, and the collectives.
 * Incoming sync messages are checked and filed here; those that do not belong (another group, a
 * round that is not this one or the next, a sender that is no member, a wrong shape, NaN) are
 * reported to `onReject` listeners with the reason, and the collective goes on without them.
 */
import type { TensorHeader } from '@atoll/compress'
import type { AtollMesh, IncomingTensor } from '@atoll/net'
import type { LinkMatrix, LinkProfile } from '@atoll/sched'
import { admitHeader, arrivalOf, type GroupView } from './admit.ts'
import { type GroupContext, runAllReduce } from './all-reduce.ts'
import { checkCount, checkData, checkName } from './checks.ts'
import type { CollectiveRun } from './collective.ts'
import {
  DEFAULT_COLLECTIVE_NAME,
  DEFAULT_MAX_EARLY_BYTES,
  DEFAULT_PIECE_ELEMENTS,
  DEFAULT_SENDS_IN_FLIGHT,
} from './constants.ts'
import { InvalidSyncOptionError, RoundOrderError, SyncClosedError } from './errors.ts'
import { type Residuals, SyncFeedback } from './feedback.ts'
import { SyncInbox } from './inbox.ts'
import { checkMembers, memberLinks } from './links.ts'
import { type AllReduceOptions, planCollective } from './plan.ts'
import { joinRouter } from './router.ts'
import type { Arrival, RejectionKind, Verdict } from './slot.ts'
import type { DeadlineOptions } from './time-model.ts'

export interface SyncGroupInit {
  mesh: AtollMesh
  /** the group's id, carried as the messages' `job` (e.g. `<job>/stage-0`) */
  group: string
  /** peer ids, this one included, in the same order on every replica: the order sums are taken in */
  members: readonly string[]
  /** measured links between every two members (others are ignored) */
  links: readonly LinkProfile[]
  /** the first round (default 0); rounds count collectives' rounds and go up by one */
  round?: number
  /** elements per message (default 65536) */
  pieceElements?: number
  /** messages in flight per destination (default 4) */
  sendsInFlight?: number
  /** how deadlines follow from predicted times (default slack 3, floor 2 s) */
  deadline?: DeadlineOptions
  /** bytes of early messages (rounds not started here yet) held at most (default 1 GiB) */
  maxEarlyBytes?: number
}

/** A message that was not taken, and why. */
export interface SyncRejection {
  from: string
  group: string
  round: number
  edge: string
  kind: RejectionKind
  reason: string
}

export class SyncGroup {
  readonly group: string
  readonly #mesh: AtollMesh
  #init: SyncGroupInit
  readonly #inbox: SyncInbox
  readonly #feedback = new SyncFeedback()
  readonly #lengths = new Map<string, number>()
  readonly #listeners = new Set<(rejection: SyncRejection) => void>()
  readonly #running = new Set<CollectiveRun>()
  readonly #leave: () => void
  readonly #pieceElements: number
  #members: string[]
  #matrix: LinkMatrix
  #closed = false
  #bytesSent = 0

  constructor(init: SyncGroupInit) {
    const { round = 0, pieceElements = DEFAULT_PIECE_ELEMENTS } = init
    const group = checkName('group', init.group)
    checkCount('round', round, 0)
    checkCount('pieceElements', pieceElements, 1)
    checkCount('sendsInFlight', init.sendsInFlight ?? DEFAULT_SENDS_IN_FLIGHT, 1)
    this.group = group
    this.#mesh = init.mesh
    this.#init = init
    this.#pieceElements = pieceElements
    this.#members = this.#checkedMembers(init.members)
    this.#matrix = memberLinks(this.#members, init.links)
    const reject = (arrival: Arrival, verdict: Verdict) => this.#report(arrival, arrival.round, verdict)
    this.#inbox = new SyncInbox(round, init.maxEarlyBytes ?? DEFAULT_MAX_EARLY_BYTES, reject)
    this.#leave = joinRouter(init.mesh, {
      group,
      receive: (msg) => this.#receive(msg),
      admit: (header, from) => this.admit(header, from),
      strayed: (msg, reason) => this.#report(msg, msg.header.step, { kind: 'foreign', reason }),
    })
  }

  get peerId(): string {
    return this.#mesh.peerId
  }

  get members(): readonly string[] {
    return this.#members
  }

  /** Payload bytes this member's collectives have sent the other members so far. */
  get bytesSent(): number {
    return this.#bytesSent
  }

  /** The latest round a collective started in here (or the first round). */
  get round(): number {
    return this.#inbox.round
  }

  /**
   * The element-wise sum of `data` over the members, the same bits on every member. Resolves once
   * this member has the whole sum and everything it sent was received; `data` must not change
   * meanwhile. Fails with LateReplicaError when members miss the deadline (see README: run the
   * round again without them).
   */
  async allReduce(round: number, data: Float32Array, options: AllReduceOptions = {}): Promise<Float32Array> {
    const name = this.#checkCall(round, data, options)
    const deadline = this.#init.deadline ?? {}
    const plan = planCollective(this.#matrix, data.length, this.#pieceElements, options, deadline)
    const slot = this.#inbox.open(round, name, plan.fingerprint)
    if (plan.compression.codec === 'topk') {
      this.#feedback.begin(name, plan.fingerprint)
      this.#lengths.set(name, data.length)
    }
    let succeeded = false
    try {
      const result = await runAllReduce(this.#context, { round, name, plan, slot }, data, this.#running)
      succeeded = true
      return result
    } finally {
      this.#inbox.close(round, name, plan.fingerprint, slot)
      this.#feedback.end(name, succeeded)
    }
  }

  /**
   * Removes members (after a LateReplicaError: `group.exclude(err.peers)`), so that the round can
   * be run again by the others; every remaining replica must exclude the same ones.
   */
  exclude(peers: readonly string[]): void {
    for (const peer of peers) {
      if (!this.#members.includes(peer)) throw new InvalidSyncOptionError(`exclude: ${peer} is not a member`)
      if (peer === this.peerId) throw new InvalidSyncOptionError('exclude: a member cannot exclude itself')
    }
    this.setMembers(this.#members.filter((m) => !peers.includes(m)))
  }

  /** Replaces the members (a replica left or joined, at a round boundary); `links` when new ones were measured. */
  setMembers(members: readonly string[], links: readonly LinkProfile[] = this.#init.links): void {
    const checked = this.#checkedMembers(members)
    this.#matrix = memberLinks(checked, links)
    this.#members = checked
    this.#init = { ...this.#init, links }
  }

  /** Moves this member to `round` (a replica that was out catches up): earlier rounds' messages are late. */
  advance(round: number): void {
    checkCount('round', round, 0)
    this.#inbox.advance(round)
  }

  /** Why a sync header for this group is refused, for the mesh's tensor gate (see syncGate). */
  admit(header: TensorHeader, from: string): string | undefined {
    const verdict = admitHeader(header, from, this.#view)
    return 'kind' in verdict ? `${verdict.kind}: ${verdict.reason}` : undefined
  }

  /** Calls `listener` with every rejected message; returns the function that stops it. */
  onReject(listener: (rejection: SyncRejection) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Top-k's residuals for `name`, over its whole tensor (undefined before top-k ran for it). */
  residuals(name = DEFAULT_COLLECTIVE_NAME): Residuals | undefined {
    const length = this.#lengths.get(name)
    return length === undefined ? undefined : this.#feedback.residuals(name, length)
  }

  /** Forgets top-k's residuals of `name`, or of every name. */
  resetResiduals(name?: string): void {
    this.#feedback.reset(name)
  }

  /** Fails running collectives with SyncClosedError and stops receiving. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const run of this.#running) run.abort(new SyncClosedError(`group '${this.group}' was closed`))
    this.#leave()
  }

  get #view(): GroupView {
    return { group: this.group, members: this.#members, inbox: this.#inbox }
  }

  #checkedMembers(members: readonly string[]): string[] {
    const checked = checkMembers(members)
    if (!checked.includes(this.peerId)) {
      throw new InvalidSyncOptionError(
        `members: expected this peer ${this.peerId} among them, found it missing`,
      )
    }
    return checked
  }

  /** The collective's name, once the call is known to be sound. */
  #checkCall(round: number, data: Float32Array, options: AllReduceOptions): string {
    if (this.#closed) throw new SyncClosedError(`group '${this.group}' is closed`)
    checkCount('round', round, 0)
    if (round < this.#inbox.round) {
      throw new RoundOrderError(`round ${round} is before this round (${this.#inbox.round})`)
    }
    const name = checkName('name', options.name ?? DEFAULT_COLLECTIVE_NAME)
    checkData(name, data)
    return name
  }

  get #context(): GroupContext {
    return {
      group: this.group,
      members: this.#members,
      self: this.#members.indexOf(this.peerId),
      pieceElements: this.#pieceElements,
      feedback: this.#feedback,
      send: (to, fields, payload, signal) => {
        this.#bytesSent += payload.byteLength
        return this.#mesh.tensors.send(to, fields, payload, { signal })
      },
      sendsInFlight: this.#init.sendsInFlight ?? DEFAULT_SENDS_IN_FLIGHT,
      reject: (arrival, verdict) => this.#report(arrival, arrival.round, verdict),
    }
  }

  #receive(msg: IncomingTensor): void {
    const arrival = arrivalOf(msg, this.#view)
    if ('kind' in arrival) {
      this.#report(msg, msg.header.step, arrival)
      return
    }
    const verdict = this.#inbox.file(arrival)
    if (verdict !== undefined) this.#report(arrival, arrival.round, verdict)
  }

  #report(
    msg: { from: string; edge?: string; header?: TensorHeader },
    round: number,
    verdict: Verdict,
  ): void {
    const edge = msg.edge ?? msg.header?.edge ?? ''
    const rejection = { from: msg.from, group: this.group, round, edge, ...verdict }
    for (const listener of this.#listeners) {
      try {
        listener(rejection)
      } catch {
        // a listener's failure is its own; the collective goes on
      }
    }
  }
}
