/**
 * The server side of federated rounds, in process: clients register (bandwidth, sample count), each
 * round selects some of them, assigns each a keep ratio by the strategy, takes their updates until
 * a deadline, aggregates the accepted ones and moves the global model. The caller owns the clock:
 * every call that depends on time takes `nowMs`, and nothing here waits or sets a timer, so a server
 * loop (or a test) decides when to look again.
 *
 * ```ts
 * const rounds = new FederatedRounds({ model, strategy: { name: 'bcrs-opwa', keepRatio: 0.05 }, roundSeconds: 60 })
 * rounds.register({ client: peerId, bandwidthBps, samples })
 * const plan = rounds.startRound(Date.now())          // send each plan.assignments[i] to its client
 * rounds.submit(update, Date.now())                    // per arriving update: { accepted } or { rejection }
 * if (rounds.ready(Date.now())) rounds.finishRound(Date.now()) // everyone in, or the deadline passed
 * ```
 *
 * Who sent an update is the transport's to establish (the libp2p peer id is the client id); here
 * `update.client` is taken as given.
 */
import { tensor } from '@atoll/core'
import { aggregateUpdates, applyServerStep } from './aggregate.ts'
import { checkUpdateContent } from './check-update.ts'
import { FlClientError, FlOptionError, FlRoundStateError } from './errors.ts'
import { checkBandwidth } from './keep-ratios.ts'
import { envelopeRefusal, type OpenRound, openRound, type SelectedClient } from './open-round.ts'
import type { FlClientInfo, FlRoundRecord } from './round-record.ts'
import { checkSelection, selectClients } from './selection.ts'
import { checkStrategy, type FlStrategy } from './strategy.ts'
import type { FlAssignment, FlClientUpdate, FlModel, FlRejection, FlRejectionKind } from './update.ts'

export interface FederatedRoundsInit {
  /** the global model to start from (copied) */
  model: FlModel
  /**
   * which of the model's tensors are running statistics (BatchNorm's): clients send them dense in
   * every round, and they become the accepted clients' mean, not a step of the server's rate
   */
  statistics?: readonly string[]
  strategy: FlStrategy
  /** seconds from a round's start to its deadline (startRound can give another) */
  roundSeconds: number
  /** η_server in θ ← θ + η_server·Δ (default 1: plain FedAvg) */
  serverLearningRate?: number
  /** fraction of the registered clients selected per round, in (0, 1] (default 1) */
  fraction?: number
  /** the fewest clients a round runs with (default 1) */
  minClients?: number
  /** seed of the selection (default 0) */
  seed?: number
  /** the first round's number (default 0; a server resumed from a checkpoint gives its next round) */
  firstRound?: number
}

export interface FlRoundPlan {
  round: number
  deadlineMs: number
  /** one per selected client, in id order */
  assignments: FlAssignment[]
}

export type FlSubmitResult = { accepted: true; bytes: number } | { accepted: false; rejection: FlRejection }

export class FederatedRounds {
  readonly strategy: FlStrategy
  /** the model's running statistics, by name */
  readonly statistics: ReadonlySet<string>
  readonly #init: Required<Omit<FederatedRoundsInit, 'model' | 'strategy' | 'firstRound' | 'statistics'>>
  readonly #clients = new Map<string, FlClientInfo>()
  readonly #history: FlRoundRecord[] = []
  #model: FlModel
  #round: number
  #open: OpenRound | undefined

  constructor(init: FederatedRoundsInit) {
    checkStrategy(init.strategy)
    const options = {
      roundSeconds: init.roundSeconds,
      serverLearningRate: init.serverLearningRate ?? 1,
      fraction: init.fraction ?? 1,
      minClients: init.minClients ?? 1,
      seed: init.seed ?? 0,
    }
    checkSelection(options)
    positive('roundSeconds', options.roundSeconds)
    positive('serverLearningRate', options.serverLearningRate)
    const firstRound = init.firstRound ?? 0
    if (!Number.isSafeInteger(firstRound) || firstRound < 0)
      throw new FlOptionError(`firstRound must be an integer ≥ 0, got ${firstRound}`)
    const unknown = (init.statistics ?? []).filter((name) => !init.model.has(name))
    if (unknown.length > 0)
      throw new FlOptionError(`statistics '${unknown.join("', '")}' are not tensors of the model`)
    this.statistics = new Set(init.statistics)
    this.strategy = init.strategy
    this.#init = options
    this.#model = copyModel(init.model)
    this.#round = firstRound
  }

  /** The global model (a new map each round; never changed in place). */
  get model(): FlModel {
    return this.#model
  }

  /** The open round's number, or the next one's when none is open. */
  get round(): number {
    return this.#round
  }

  /** The open round's live record, if one is open. */
  get current(): FlRoundRecord | undefined {
    return this.#open?.record
  }

  /** Finished rounds, oldest first. */
  get history(): readonly FlRoundRecord[] {
    return this.#history
  }

  get clients(): readonly FlClientInfo[] {
    return [...this.#clients.values()].map((info) => ({ ...info }))
  }

  /** A new client, selectable from the next round on. */
  register(info: FlClientInfo): void {
    if (this.#clients.has(info.client))
      throw new FlClientError(`client '${info.client}' is already registered`)
    checkBandwidth(info.client, info.bandwidthBps)
    if (!Number.isSafeInteger(info.samples) || info.samples < 1) {
      throw new FlOptionError(`client '${info.client}': samples must be an integer ≥ 1, got ${info.samples}`)
    }
    this.#clients.set(info.client, { ...info })
  }

  /** A new bandwidth measurement; it counts from the next round's keep ratios. */
  updateBandwidth(client: string, bandwidthBps: number): void {
    const info = this.#registered(client)
    checkBandwidth(client, bandwidthBps)
    info.bandwidthBps = bandwidthBps
  }

  /** The client leaves; if the open round still waits for it, it is dropped from that round. */
  unregister(client: string): void {
    this.#registered(client)
    this.#clients.delete(client)
    const entry = this.#open?.selected.get(client)?.entry
    if (entry?.status === 'waiting')
      Object.assign(entry, { status: 'dropped', reason: 'left during the round' })
  }

  /** Selects this round's clients and assigns their keep ratios; the deadline is now + roundSeconds. */
  startRound(nowMs: number, roundSeconds = this.#init.roundSeconds): FlRoundPlan {
    if (this.#open !== undefined) throw new FlRoundStateError(`round ${this.#round} is still open`)
    positive('roundSeconds', roundSeconds)
    const selected = selectClients([...this.#clients.keys()], this.#round, this.#init).map(
      (id) => this.#clients.get(id) as FlClientInfo,
    )
    this.#open = openRound(this.strategy, selected, this.#round, nowMs, nowMs + roundSeconds * 1000)
    const { round, deadlineMs } = this.#open.record
    return { round, deadlineMs, assignments: this.#open.assignments }
  }

  /**
   * Checks an update and takes it into the open round, or refuses it with the reason (also kept in
   * the round's record). A refused update never reaches the model. A selected client's update that
   * fails a content check closes its part of the round; an envelope refusal (late, wrong round…)
   * does not.
   */
  submit(update: FlClientUpdate, nowMs: number): FlSubmitResult {
    const open = this.#open
    const refuse = (kind: FlRejectionKind, reason: string): FlSubmitResult => {
      const rejection = { client: update.client, round: update.round, kind, reason, atMs: nowMs }
      open?.record.rejections.push(rejection)
      return { accepted: false, rejection }
    }
    const envelope = envelopeRefusal(open, this.#clients.has(update.client), update, nowMs)
    if (envelope !== undefined) return refuse(envelope.kind, envelope.reason)
    const round = open as OpenRound // envelopeRefusal found it open and the client selected
    const { assignment, entry } = round.selected.get(update.client) as SelectedClient
    const check = checkUpdateContent(this.#model, assignment, update.tensors, this.statistics)
    const bytes = payloadBytes(update)
    Object.assign(entry, {
      bytes,
      predictedUploadSeconds: bytes / entry.bandwidthBps,
      arrivedAfterMs: nowMs - round.record.startedAtMs,
    })
    if (!check.ok) {
      Object.assign(entry, { status: 'rejected', reason: check.reason })
      return refuse(check.kind, check.reason)
    }
    entry.status = 'accepted'
    round.accepted.set(update.client, {
      client: update.client,
      samples: entry.samples,
      tensors: check.tensors,
    })
    return { accepted: true, bytes }
  }

  /** Whether the open round may finish: every selected client is settled, or the deadline has passed. */
  ready(nowMs: number): boolean {
    const open = this.#open
    if (open === undefined) return false
    return nowMs >= open.record.deadlineMs || open.record.clients.every((c) => c.status !== 'waiting')
  }

  /**
   * Drops the clients still waiting, aggregates the accepted updates (in client id order) and takes
   * the server step; the model is unchanged when none was accepted. The next round can then start.
   */
  finishRound(nowMs: number): FlRoundRecord {
    const open = this.#open
    if (open === undefined) throw new FlRoundStateError('no round is open')
    if (!this.ready(nowMs)) {
      throw new FlRoundStateError(
        `round ${open.record.round} waits for clients until ${open.record.deadlineMs}`,
      )
    }
    const { record } = open
    for (const entry of record.clients) {
      if (entry.status === 'waiting')
        Object.assign(entry, { status: 'dropped', reason: 'missed the deadline' })
    }
    const contributions = record.clients.flatMap((c) => open.accepted.get(c.client) ?? [])
    if (contributions.length > 0) {
      const deltas = aggregateUpdates(this.strategy.name, this.#model, contributions)
      this.#model = applyServerStep(this.#model, deltas, this.#init.serverLearningRate, this.statistics)
    }
    record.contributors = contributions.map((c) => c.client)
    record.applied = contributions.length > 0
    record.finishedAtMs = nowMs
    this.#history.push(record)
    this.#open = undefined
    this.#round++
    return record
  }

  #registered(client: string): FlClientInfo {
    const info = this.#clients.get(client)
    if (info === undefined) throw new FlClientError(`client '${client}' is not registered`)
    return info
  }
}

function payloadBytes(update: FlClientUpdate): number {
  let bytes = 0
  for (const t of update.tensors.values()) bytes += t.encoded.payload.byteLength
  return bytes
}

function positive(field: string, value: number): void {
  if (!(value > 0) || !Number.isFinite(value))
    throw new FlOptionError(`${field} must be a finite number > 0, got ${value}`)
}

function copyModel(model: FlModel): FlModel {
  return new Map([...model].map(([name, t]) => [name, tensor('float32', [...t.shape], t.data.slice())]))
}
