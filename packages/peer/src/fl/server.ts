/**
 * The federated server on the mesh: it serves the federation's ctrl methods (@atoll/sync's wire.ts),
 * admits update tensors through its inbox's gate, and drives FederatedRounds with the wall clock —
 * wait for enough clients, start a round, take updates until every selected client is settled or
 * the deadline passes, finish it (aggregation, server step), then evaluate and checkpoint through
 * the host's hooks. A client's bad message is refused with its reason (told to the client, reported
 * as an event) and the round goes on.
 */
import type { AtollMesh } from '@atoll/net'
import {
  type FederatedRounds,
  type FlJoinAnswer,
  type FlModel,
  type FlRoundPlan,
  type FlRoundRecord,
  type FlSubmitAnswer,
  type FlTask,
  flEdge,
  flJoinMethod,
  flLeaveMethod,
  flModelMethod,
  flSubmitMethod,
  flTaskMethod,
} from '@atoll/sync'
import { FlRequestError } from './errors.ts'
import { Changes } from './changes.ts'
import { UpdateInbox } from './update-inbox.ts'

export interface FlEvaluation {
  loss: number
  accuracy: number
}

/** One finished round as `atoll fl serve` prints it and metrics.jsonl keeps it. */
export interface FlRoundMetrics extends FlEvaluation {
  round: number
  selected: number
  accepted: number
  rejected: number
  dropped: number
  /** payload bytes of the updates taken or refused for their content */
  uploadBytes: number
  /** from the round's start to its end, aggregation included */
  seconds: number
  /** the selected clients' keep ratios, by client */
  keepRatios: Record<string, number>
}

export type FlServerEvent =
  /** the methods and the gate are served: clients may join from now on */
  | { kind: 'serving' }
  | { kind: 'joined'; client: string; samples: number; bandwidthBps: number; again: boolean }
  | { kind: 'left'; client: string }
  | { kind: 'waiting'; joined: number; needed: number }
  | { kind: 'round-start'; plan: FlRoundPlan }
  | { kind: 'update'; round: number; client: string; answer: FlSubmitAnswer }
  /** a tensor refused at its header, or one that failed on the way */
  | { kind: 'refused'; client: string; reason: string }
  | { kind: 'evaluated'; round: number | 'start'; evaluation: FlEvaluation }
  | { kind: 'round'; metrics: FlRoundMetrics; record: FlRoundRecord }

export interface FlServerInit {
  mesh: AtollMesh
  federation: string
  rounds: FederatedRounds
  /** the round after which the federation is done (its FL.yaml's `rounds`) */
  lastRound: number
  /** what every client trains, as `atoll.fl.join` answers it (the round is filled in) */
  settings: Omit<FlJoinAnswer, 'round' | 'federation'>
  minClients: number
  evaluate(model: FlModel): Promise<FlEvaluation>
  /** after each round, with its metrics: the host checkpoints here */
  afterRound(model: FlModel, metrics: FlRoundMetrics): Promise<void>
  onEvent?(event: FlServerEvent): void
  signal?: AbortSignal
}

/** How long the server waits, once done, for its clients to hear so before it stops. */
const DONE_GRACE_MS = 3_000

export class FlServer {
  readonly #init: FlServerInit
  readonly #joined = new Set<string>()
  readonly #told = new Set<string>()
  readonly #changes = new Changes()
  readonly #inbox: UpdateInbox
  #plan: FlRoundPlan | undefined
  #done = false

  constructor(init: FlServerInit) {
    this.#init = init
    this.#inbox = new UpdateInbox(init.federation, init.rounds, this.#joined)
  }

  /** Serves the methods and the gate, runs the rounds left, and answers `done` to the clients. */
  async run(): Promise<FlRoundMetrics[]> {
    const { mesh, rounds, signal } = this.#init
    this.#serve()
    this.#emit({ kind: 'serving' })
    const out: FlRoundMetrics[] = []
    try {
      this.#emit({ kind: 'evaluated', round: 'start', evaluation: await this.#init.evaluate(rounds.model) })
      while (rounds.round < this.#init.lastRound && !signal?.aborted) {
        if (!(await this.#enoughClients())) break
        const metrics = await this.#runRound()
        if (metrics === undefined) break
        out.push(metrics)
      }
      this.#done = true
      this.#changes.notify()
      await this.#changes.until(() => [...this.#joined].every((c) => this.#told.has(c)), DONE_GRACE_MS)
      return out
    } finally {
      this.#done = true
      mesh.tensors.setGate(undefined)
    }
  }

  #serve(): void {
    const { mesh } = this.#init
    mesh.tensors.setGate((header, from) => this.#inbox.admit(header, from))
    mesh.tensors.onMessage((msg) => this.#inbox.put(msg))
    mesh.tensors.onFailure(({ from, error }) =>
      this.#emit({ kind: 'refused', client: from, reason: error.message }),
    )
    mesh.ctrl.serve(flJoinMethod, (request, from) => this.#join(request, from))
    mesh.ctrl.serve(flTaskMethod, (request, from) => this.#task(request, from))
    mesh.ctrl.serve(flModelMethod, (request, from) => this.#model(request, from))
    mesh.ctrl.serve(flSubmitMethod, (request, from) => this.#submit(request, from))
    mesh.ctrl.serve(flLeaveMethod, (request, from) => {
      this.#check(request.federation)
      if (this.#joined.delete(from)) {
        this.#init.rounds.unregister(from)
        this.#emit({ kind: 'left', client: from })
        this.#changes.notify()
      }
      return {}
    })
  }

  async #enoughClients(): Promise<boolean> {
    const needed = this.#init.minClients
    if (this.#joined.size < needed) this.#emit({ kind: 'waiting', joined: this.#joined.size, needed })
    const signal = this.#init.signal
    while (this.#joined.size < needed && !signal?.aborted) await this.#changes.next(1_000)
    return !signal?.aborted
  }

  /** One round from start to checkpoint; undefined when stopped before it could finish. */
  async #runRound(): Promise<FlRoundMetrics | undefined> {
    const { rounds, signal } = this.#init
    this.#plan = rounds.startRound(Date.now())
    this.#emit({ kind: 'round-start', plan: this.#plan })
    this.#changes.notify()
    const deadline = this.#plan.deadlineMs
    while (!rounds.ready(Date.now())) {
      if (signal?.aborted) return undefined
      await this.#changes.next(Math.max(1, Math.min(1_000, deadline - Date.now() + 1)))
    }
    const record = rounds.finishRound(Date.now())
    this.#inbox.clear()
    this.#plan = undefined
    this.#changes.notify()
    const evaluation = await this.#init.evaluate(rounds.model)
    this.#emit({ kind: 'evaluated', round: record.round, evaluation })
    const metrics = metricsOf(record, evaluation)
    await this.#init.afterRound(rounds.model, metrics)
    this.#emit({ kind: 'round', metrics, record })
    return metrics
  }

  #join(request: { samples: number; bandwidthBps: number }, from: string): FlJoinAnswer {
    const { rounds } = this.#init
    const again = this.#joined.has(from)
    if (again) rounds.updateBandwidth(from, request.bandwidthBps)
    else rounds.register({ client: from, bandwidthBps: request.bandwidthBps, samples: request.samples })
    this.#joined.add(from)
    this.#emit({
      kind: 'joined',
      client: from,
      samples: request.samples,
      bandwidthBps: request.bandwidthBps,
      again,
    })
    this.#changes.notify()
    return { ...this.#init.settings, federation: this.#init.federation, round: rounds.round }
  }

  /** Long poll: a round this client is selected for after `after`, `done`, or `wait` after waitMs. */
  async #task(request: { federation: string; after: number; waitMs: number }, from: string): Promise<FlTask> {
    this.#check(request.federation)
    this.#member(from)
    const until = Date.now() + request.waitMs
    for (;;) {
      if (this.#done) {
        this.#told.add(from)
        this.#changes.notify()
        return { kind: 'done' }
      }
      const assignment = this.#plan?.assignments.find((a) => a.client === from)
      const status = this.#init.rounds.current?.clients.find((c) => c.client === from)?.status
      if (assignment !== undefined && assignment.round > request.after && status === 'waiting') {
        const { round, keepRatio, encoding, deadlineMs } = assignment
        return {
          kind: 'train',
          round,
          keepRatio,
          encoding,
          deadlineInMs: Math.max(0, deadlineMs - Date.now()),
        }
      }
      const left = until - Date.now()
      if (left <= 0) return { kind: 'wait' }
      await this.#changes.next(left)
    }
  }

  /** Sends the round's model to a selected client as `fl.model/<name>` tensors, then lists them. */
  async #model(request: { federation: string; round: number }, from: string) {
    this.#check(request.federation)
    this.#member(from)
    const { rounds, mesh, federation } = this.#init
    const current = rounds.current
    const status = current?.clients.find((c) => c.client === from)?.status
    if (current === undefined || current.round !== request.round || status !== 'waiting')
      throw new FlRequestError(
        `no model for ${from} in round ${request.round}: it is not open with this client's update due`,
      )
    const model = rounds.model // a new map each round, never changed in place: safe to send views of
    for (const [name, t] of model) {
      const payload = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)
      const fields = { job: federation, step: request.round, mb: 0, edge: flEdge.model(name) }
      await mesh.tensors.send(
        from,
        { ...fields, dtype: 'float32', shape: [...t.shape], codec: 'raw', codecMeta: {} },
        payload,
      )
    }
    return { tensors: [...model].map(([name, t]) => ({ name, shape: [...t.shape] })) }
  }

  #submit(request: { federation: string; round: number }, from: string): FlSubmitAnswer {
    this.#check(request.federation)
    const tensors = this.#inbox.take(from, request.round)
    const result = this.#init.rounds.submit({ client: from, round: request.round, tensors }, Date.now())
    const answer: FlSubmitAnswer = result.accepted
      ? { accepted: true, bytes: result.bytes }
      : { accepted: false, kind: result.rejection.kind, reason: result.rejection.reason.slice(0, 2048) }
    this.#emit({ kind: 'update', round: request.round, client: from, answer })
    this.#changes.notify()
    return answer
  }

  #check(federation: string): void {
    if (federation !== this.#init.federation)
      throw new FlRequestError(
        `federation '${federation}' is not served here (this is '${this.#init.federation}')`,
      )
  }

  #member(client: string): void {
    if (!this.#joined.has(client))
      throw new FlRequestError(`${client} has not joined (call ${flJoinMethod.name} first)`)
  }

  #emit(event: FlServerEvent): void {
    this.#init.onEvent?.(event)
  }
}

function metricsOf(record: FlRoundRecord, evaluation: FlEvaluation): FlRoundMetrics {
  const by = (status: string) => record.clients.filter((c) => c.status === status).length
  return {
    round: record.round,
    selected: record.clients.length,
    accepted: by('accepted'),
    rejected: by('rejected'),
    dropped: by('dropped'),
    uploadBytes: record.clients.reduce((sum, c) => sum + (c.bytes ?? 0), 0),
    seconds: ((record.finishedAtMs ?? record.startedAtMs) - record.startedAtMs) / 1000,
    keepRatios: Object.fromEntries(record.clients.map((c) => [c.client, c.keepRatio])),
    ...evaluation,
  }
}
