/**
 * The synchronizer's own messages between replicas, beside the collectives: a joiner's state (its
 * parameters, optimizer buffers and the synchronizer's state, one tensor message per buffer), and a
 * left-out replica's ask for a round's outcome with the answers (the means and who contributed, see
 * answers.ts), or a member's notice that the round is still running there (`running`: the answer
 * will follow). They travel on `/atoll/tensor/1` with `job` = the group, `step` = the round and the
 * edge `replica:<state|result|ask|running>:<name>`; the sync router ignores them (their edge is not
 * `sync:`).
 *
 * Every message is checked before it is kept: a member's, a known kind, raw float32 (float64 for the
 * state's manifest) of one dimension, finite; results and asks only for rounds near this one, state
 * only while a state is awaited, within a byte budget. Lengths are checked against what the taker
 * expects. A refused message is reported with the reason and never used.
 */
import { type HeaderFields, viewRaw } from '@atoll/compress'
import type { AtollMesh, IncomingTensor } from '@atoll/net'
import { firstNonFinite } from '../admit.ts'
import { MAX_NAME_LENGTH } from '../constants.ts'
import type { RejectionKind } from '../slot.ts'
import { MAX_HELD_BYTES, REPLICA_EDGE_PREFIX } from './constants.ts'
import { ReplicaStateError } from './errors.ts'

export type ReplicaMessageKind = 'state' | 'result' | 'ask' | 'running'

/** A replica message that was not taken, and why (the kinds of the collectives' rejections). */
export interface ReplicaRejection extends Refusal {
  from: string
  edge: string
  round: number
}

interface Refusal {
  kind: RejectionKind
  reason: string
}

const foreign = (reason: string): Refusal => ({ kind: 'foreign', reason })
const malformed = (reason: string): Refusal => ({ kind: 'malformed', reason })

interface Held {
  from: string
  round: number
  name: string
  values: Float32Array | Float64Array
}

const EDGE = /^replica:(state|result|ask|running):(.+)$/s
/** The state's manifest: [next step, round, optimizer steps], float64 so that counts stay exact. */
export const MANIFEST = '@manifest'
/** Rounds ahead of this one whose results are kept (a replica left out is behind the others). */
const RESULT_ROUNDS_AHEAD = 2

export interface ReplicaChannelInit {
  mesh: AtollMesh
  group: string
  isMember(peer: string): boolean
  reject(rejection: ReplicaRejection): void
  /** a member asks for round `round`'s outcome (it was left out, or saw the round fail) */
  asked(from: string, round: number): void
}

export class ReplicaChannel {
  readonly #init: ReplicaChannelInit
  readonly #held: Held[] = []
  readonly #wakers = new Set<() => void>()
  /** when a member last said that a round still runs there, by round */
  readonly #running = new Map<number, number>()
  readonly #off: () => void
  #heldBytes = 0
  #round = 0
  #awaitingState = false
  #closed = false

  constructor(init: ReplicaChannelInit) {
    this.#init = init
    this.#off = init.mesh.tensors.onMessage((msg) => this.#receive(msg))
  }

  /** From now on, state messages are kept until takeState (a joiner calls this before it is admitted). */
  expectState(): void {
    this.#awaitingState = true
  }

  /** Results of rounds before `round − 1` are no longer wanted. */
  advance(round: number): void {
    this.#round = Math.max(this.#round, round)
    this.#drop((h) => !this.#isState(h) && h.round < this.#round - 1)
    for (const r of this.#running.keys()) if (r < this.#round - 1) this.#running.delete(r)
  }

  send(
    to: string,
    kind: ReplicaMessageKind,
    round: number,
    name: string,
    values: Float32Array | Float64Array,
    signal?: AbortSignal,
  ): Promise<void> {
    const dtype = values instanceof Float64Array ? 'float64' : 'float32'
    const fields: HeaderFields = {
      job: this.#init.group,
      step: round,
      mb: 0,
      edge: `${REPLICA_EDGE_PREFIX}${kind}:${name}`,
      dtype,
      shape: [values.length],
      codec: 'raw',
      codecMeta: {},
    }
    const payload = new Uint8Array(values.buffer, values.byteOffset, values.byteLength)
    return this.#init.mesh.tensors.send(to, fields, payload, { signal })
  }

  /** Asks `to` for round `round`'s outcome (answered with its results, see answers.ts). */
  ask(to: string, round: number): Promise<void> {
    return this.send(to, 'ask', round, '@', new Float32Array(1))
  }

  /** Tells `to`, which asked for round `round`'s outcome, that the round still runs here. */
  tellRunning(to: string, round: number): Promise<void> {
    return this.send(to, 'running', round, '@', new Float32Array(1))
  }

  /** Whether a member has said since `since` (performance.now()) that round `round` still runs there. */
  heardRunning(round: number, since: number): boolean {
    return (this.#running.get(round) ?? Number.NEGATIVE_INFINITY) >= since
  }

  /**
   * Round `round`'s results, one per expected name with the expected length, all from one sender;
   * undefined if they have not all come within `seconds`.
   */
  async takeResults(
    round: number,
    expected: ReadonlyMap<string, number>,
    seconds: number,
  ): Promise<Map<string, Float32Array> | undefined> {
    const found = await this.#waitFor(seconds, () => this.#complete('result', round, expected))
    return found?.values as Map<string, Float32Array> | undefined
  }

  /**
   * The state (name → length, the manifest included), all from one sender; ReplicaStateError naming
   * what is missing when it has not all come within `seconds`.
   */
  async takeState(
    expected: ReadonlyMap<string, number>,
    seconds: number,
  ): Promise<{ from: string; values: Map<string, Float32Array | Float64Array> }> {
    const found = await this.#waitFor(seconds, () => this.#complete('state', -1, expected))
    if (found === undefined) {
      const have = new Set(this.#held.filter((h) => this.#isState(h)).map((h) => h.name))
      const missing = [...expected.keys()].filter((name) => !have.has(name))
      throw new ReplicaStateError(
        `state: ${missing.length} of ${expected.size} tensors missing after ${seconds.toFixed(1)} s (first: '${missing[0]}')`,
      )
    }
    this.#awaitingState = false
    this.#drop((h) => this.#isState(h))
    return found
  }

  close(): void {
    this.#closed = true
    this.#off()
    this.#drop(() => true)
    for (const wake of [...this.#wakers]) wake()
  }

  #isState(h: Held): boolean {
    return h.round < 0
  }

  /** Every expected name with its length from one sender (the first sender that has them all), or undefined. */
  #complete(kind: ReplicaMessageKind, round: number, expected: ReadonlyMap<string, number>) {
    const ours = (h: Held) => (kind === 'state' ? this.#isState(h) : h.round === round)
    for (const h of this.#held.filter(ours)) {
      const length = expected.get(h.name)
      if (length === h.values.length) continue
      const reason =
        length === undefined
          ? `'${h.name}' is not expected`
          : `'${h.name}' has ${h.values.length} elements, expected ${length}`
      this.#refuse(h, reason)
    }
    const mine = this.#held.filter(ours)
    for (const sender of new Set(mine.map((h) => h.from))) {
      const values = new Map(mine.filter((h) => h.from === sender).map((h) => [h.name, h.values]))
      if ([...expected.keys()].every((name) => values.has(name))) return { from: sender, values }
    }
    return undefined
  }

  async #waitFor<T>(seconds: number, check: () => T | undefined): Promise<T | undefined> {
    const until = performance.now() + seconds * 1000
    for (;;) {
      const found = check()
      if (found !== undefined) return found
      const left = until - performance.now()
      if (left <= 0 || this.#closed) return undefined
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer)
          this.#wakers.delete(wake)
          resolve()
        }
        const timer = setTimeout(wake, left)
        this.#wakers.add(wake)
      })
    }
  }

  #receive(msg: IncomingTensor): void {
    const { header, from } = msg
    if (header.job !== this.#init.group || !header.edge.startsWith(REPLICA_EDGE_PREFIX)) return
    const refused = this.#file(msg)
    if (refused !== undefined) this.#init.reject({ from, edge: header.edge, round: header.step, ...refused })
    else for (const wake of [...this.#wakers]) wake()
  }

  /** Keeps a message; why it is refused, if it is. */
  #file({ header, from, payload }: IncomingTensor): Refusal | undefined {
    const match = EDGE.exec(header.edge)
    if (match === null)
      return malformed(`edge '${header.edge.slice(0, 80)}' is not replica:<state|result|ask|running>:<name>`)
    const [, kind, name] = match
    if (name.length > MAX_NAME_LENGTH)
      return malformed(`edge: a name of at most ${MAX_NAME_LENGTH} characters`)
    if (!this.#init.isMember(from)) return foreign(`${from} is not a member of '${this.#init.group}'`)
    const dtype = kind === 'state' && name === MANIFEST ? 'float64' : 'float32'
    if (header.codec !== 'raw' || header.dtype !== dtype || header.shape.length !== 1)
      return foreign(
        `${kind} '${name}' is raw ${dtype}[n], not ${header.codec} ${header.dtype}[${header.shape}]`,
      )
    const round = header.step
    if (kind === 'state' && !this.#awaitingState) return foreign('no state is awaited here')
    if (kind !== 'state' && round < this.#round - 1)
      return { kind: 'late', reason: `round ${round} is over here (${this.#round})` }
    if (kind !== 'state' && round > this.#round + RESULT_ROUNDS_AHEAD)
      return foreign(
        `round ${round} is beyond this round (${this.#round}) and the next ${RESULT_ROUNDS_AHEAD}`,
      )
    if (kind === 'ask') {
      this.#init.asked(from, round)
      return undefined
    }
    if (kind === 'running') {
      this.#running.set(round, performance.now())
      return undefined
    }
    const held = kind === 'state' ? -1 : round
    if (this.#held.some((h) => h.round === held && h.name === name && h.from === from))
      return { kind: 'duplicate', reason: `a second copy of ${kind} '${name}'` }
    if (this.#heldBytes + payload.byteLength > MAX_HELD_BYTES)
      return foreign(`${this.#heldBytes} bytes are held already`)
    const values = viewRaw(dtype, header.shape[0], payload)
    const bad = firstNonFinite(values)
    if (bad >= 0) return malformed(`element ${bad} of '${name}' is ${values[bad]}`)
    this.#held.push({ from, round: held, name, values })
    this.#heldBytes += values.byteLength
    return undefined
  }

  #refuse(h: Held, reason: string): void {
    this.#drop((other) => other === h)
    const edge = `${REPLICA_EDGE_PREFIX}${this.#isState(h) ? 'state' : 'result'}:${h.name}`
    this.#init.reject({ from: h.from, edge, round: h.round, kind: 'foreign', reason })
  }

  #drop(which: (h: Held) => boolean): void {
    for (let i = this.#held.length - 1; i >= 0; i--) {
      if (!which(this.#held[i])) continue
      this.#heldBytes -= this.#held[i].values.byteLength
      this.#held.splice(i, 1)
    }
  }
}
