/**
 * The coordinator of a pipeline job: it sends each worker its stage (blobs it lacks over
 * /atoll/tensor/1, the assignment over /atoll/ctrl/1), then drives the steps. Each step runs on every
 * stage at once, the stages trading boundary tensors among themselves; the coordinator gathers the
 * losses and each parameter's Σ g², computes the global norm as one process would (the same sums in
 * the model's parameter order), and commits the clipped update everywhere, or aborts it everywhere
 * when a stage failed: a step is applied on every stage or on none.
 *
 * With replicas, replica r of every stage forms pipeline r, and the pipelines are the job's slots:
 * between steps a pipeline that lost a peer leaves (`leave`: the others regroup and go on at the step
 * that failed) and fresh peers fill an empty one (`admit`: a live replica of each stage hands its
 * joiner its state). Pipeline r always trains on the r-th part of each batch, so an empty one's part
 * is not trained on until it is filled again.
 */
import {
  type Graph,
  type Partition,
  type StateUpdate,
  stateUpdates,
  type Tensor,
  tensorBytes,
} from '@atoll/core'
import { setTimeout as sleep } from 'node:timers/promises'
import { type AtollMesh, type CtrlMethod, CtrlRemoteError, multiaddr } from '@atoll/net'
import type { LinkProfile } from '@atoll/sched'
import {
  clipCoefficient,
  combineGradNorm,
  type LrSchedule,
  lrAt,
  type OptimizerSpec,
  stageGraphsOf,
  type TrainableModel,
} from '@atoll/runtime'
import { disagreeing } from './agreement.ts'
import { JobStateError, StepFailedError, WorkerLostError } from './errors.ts'
import {
  abortMethod,
  admitMethod,
  type Assignment,
  assignMethod,
  commitMethod,
  type EdgeCodec,
  edgeName,
  type JobData,
  regroupMethod,
  saveMethod,
  statusMethod,
  stepMethod,
  stopMethod,
} from './rpc.ts'
import { blobHashOf, packStage } from './stage-blob.ts'
import type { StepAnswer } from './stage-job.ts'

export interface JobPeer {
  peerId: string
  addresses: string[]
}

export interface CoordinatorInit {
  id: string
  model: TrainableModel
  /** core's partition of the model, bound to the micro-batch size */
  partition: Partition
  /**
   * the peers, in stage order: stage s's replicas are peers[s·R … s·R + R − 1] (one peer per stage
   * without replicas)
   */
  peers: JobPeer[]
  /** replicas of every stage, R (default 1): replica r of each stage forms pipeline r */
  replicas?: number
  /** how the replicas synchronise (the job file's `sync`) and the measured links between peers */
  sync?: { spec: Record<string, unknown>; links: LinkProfile[] }
  /** how each boundary crosses its link (default dense) */
  codec?(edge: Partition['edges'][number]): { codec: EdgeCodec; keep: number }
  microBatches: number
  schedule?: '1f1b' | 'gpipe'
  /** per stage, the micro-batches 1F1B holds in flight (default S − s; the plan's predicted.inFlight) */
  inFlight?: readonly number[]
  optimizer: OptimizerSpec
  lrSchedule: LrSchedule
  clipNorm?: number
  steps: number
  /** the step to start at (a resume): the model graph's initializers hold that step's weights */
  start?: number
  /** the optimizer's buffers at `start` (runtime's `<param>.<buffer>` names), when resuming */
  optimizerState?: ReadonlyMap<string, Tensor>
  data?: Omit<JobData, 'input'>
  /** how long a step may take on a worker before it is declared lost (default 10 min) */
  stepTimeoutMs?: number
  /** while a step runs, each worker is asked how it is this often (default 2 s)… */
  heartbeatMs?: number
  /** …and is declared lost when it does not answer within this (default 10 s) */
  heartbeatTimeoutMs?: number
}

export interface StepResult {
  step: number
  loss: number
  lr: number
  gradNorm: number
  seconds: number
  /** per stage: seconds computing and waiting for inputs */
  stages: { busySeconds: number; waitSeconds: number }[]
  /** payload bytes each peer sent each other peer this step */
  links: { from: string; to: string; bytes: number }[]
  /** peers that are stopping: this was their last step (`leave` takes their pipelines out) */
  leaving: string[]
  /**
   * with replicas: the longest any worker spent in its sync hooks (the last commit's averaging and
   * this step's), the payload bytes all replicas' collectives sent, and DreamDDP's periods that
   * ended, as the first replica of each stage saw them
   */
  sync?: {
    seconds: number
    bytes: number
    periods: (NonNullable<StepAnswer['sync']>['periods'][number] & { stage: number })[]
  }
}

const DEFAULT_STEP_TIMEOUT_MS = 10 * 60_000
const DEFAULT_HEARTBEAT_MS = 2_000
/** How long an abort may take to reach a worker, and how long a step call may go on after it. */
const ABORT_TIMEOUT_MS = 5_000
const ABORT_GRACE_MS = 10_000
const DEFAULT_HEARTBEAT_TIMEOUT_MS = 10_000
/** Tries of a step whose replicas applied different gradient means, before the odd ones are lost. */
const MAX_STEP_ATTEMPTS = 3
/**
 * A worker answers `save` once its checkpoint has crossed to the coordinator: parameters and two
 * optimizer buffers each (AdamW's), at no less than 1 MB/s, after a floor for the rest of the call.
 */
const SAVE_FLOOR_MS = 30_000
const SAVE_MS_PER_BYTE = 1e-3
const CHECKPOINT_COPIES = 3
/** How long a checkpoint's bytes may trail the worker's answer (they were sent before it). */
const CHECKPOINT_ARRIVAL_MS = 10_000

/** How long a stage's `save` may take: its checkpoint's bytes at the slowest rate a job should meet. */
function saveTimeoutMs(graph: Graph): number {
  let bytes = 0
  for (const name of graph.parameters) {
    const value = graph.initializers.get(name)
    if (value !== undefined) bytes += tensorBytes(value).byteLength
  }
  return Math.ceil(SAVE_FLOOR_MS + CHECKPOINT_COPIES * bytes * SAVE_MS_PER_BYTE)
}

/** A worker of the job: its peer and its place (k = stage · R + replica). */
interface Placed {
  peer: JobPeer
  k: number
}

export class JobCoordinator {
  readonly #mesh: AtollMesh
  readonly #init: CoordinatorInit
  readonly #graphs: Graph[]
  /** by place k: the peer running it, or undefined where its pipeline has left */
  readonly #peers: (JobPeer | undefined)[]
  /** the measured links the replicas' sync groups are given (joiners' added when they come) */
  #links: readonly LinkProfile[]
  #next: number

  constructor(mesh: AtollMesh, init: CoordinatorInit) {
    const replicas = init.replicas ?? 1
    if (init.peers.length !== init.partition.stages.length * replicas)
      throw new JobStateError(
        `${init.partition.stages.length} stages of ${replicas} replica(s) need ${init.partition.stages.length * replicas} peers, got ${init.peers.length}`,
      )
    if (replicas > 1 && init.sync === undefined)
      throw new JobStateError('replicas of a stage need a sync algorithm (the job file’s `sync`)')
    if (new Set(init.peers.map((p) => p.peerId)).size !== init.peers.length)
      throw new JobStateError('a peer can run one stage of a job: the peers must be distinct')
    this.#mesh = mesh
    this.#init = init
    this.#graphs = stageGraphsOf(init.partition)
    this.#peers = [...init.peers]
    this.#links = init.sync?.links ?? []
    this.#next = init.start ?? 0
  }

  get step(): number {
    return this.#next
  }

  /** The pipelines (replica indices) whose peers have left: `admit` fills them. */
  get emptyPipelines(): number[] {
    const replicas = this.#init.replicas ?? 1
    return Array.from({ length: replicas }, (_, r) => r).filter((r) => this.#peers[r] === undefined)
  }

  /** The peers running the job now, stage-major. */
  get peers(): JobPeer[] {
    return this.#live().map(({ peer }) => peer)
  }

  /** Whether `fresh` joiners fill empty pipelines exactly: a whole pipeline (a peer per stage) each. */
  fits(fresh: number): boolean {
    const stages = this.#graphs.length
    return fresh > 0 && fresh % stages === 0 && fresh / stages <= this.emptyPipelines.length
  }

  /** The peers running the job now, by place. */
  #live(): Placed[] {
    return this.#peers.flatMap((peer, k) => (peer === undefined ? [] : [{ peer, k }]))
  }

  /** The first live replica of each stage, which speaks for it (its replicas hold the same parameters). */
  #speakers(): Placed[] {
    const live = this.#live()
    return this.#graphs.map((_, s) => live.find(({ k }) => this.#placeOf(k).stage === s) as Placed)
  }

  /**
   * Sends every worker its stage; resolves when every one has accepted it. A worker that cannot be
   * reached is lost (StepFailedError names it); one that refuses the stage fails the job with its reason.
   */
  async assign(): Promise<void> {
    const state = stateUpdates(this.#init.model.graph)
    const lost = new Map<string, Error>()
    const refused: Error[] = []
    await Promise.all(
      this.#live().map(async ({ peer, k }) => {
        await this.#assignStage(k, state).catch((err: Error) => {
          if (err instanceof CtrlRemoteError) refused.push(err)
          else lost.set(peer.peerId, err)
        })
      }),
    )
    if (refused.length > 0) throw refused[0]
    if (lost.size > 0) {
      const causes = [...lost].map(([peer, err]) => `${peer}: ${err.message}`).join('; ')
      throw new StepFailedError(`assigning the stages failed: ${causes}`, this.#next, [...lost.keys()])
    }
  }

  /** Sends worker k (stage ⌊k / R⌋, replica k mod R) its stage; `joining` for a joiner of a running job. */
  async #assignStage(k: number, state: StateUpdate[], joining?: Assignment['joining']): Promise<void> {
    const { stage: s, replica } = this.#placeOf(k)
    const graph = this.#graphs[s]
    const blobs = packStage(graph, this.#init.optimizerState)
    const hashes = { graph: blobHashOf(blobs.graph), params: blobHashOf(blobs.params) }
    const produced = new Set(graph.nodes.flatMap((n) => n.outputs))
    const assignment = {
      ...this.#assignment(
        s,
        replica,
        hashes,
        state.filter((u) => produced.has(u.update)),
      ),
      ...(joining === undefined ? {} : { joining }),
    }
    const peer = this.#peers[k] as JobPeer
    let answer = await this.#call(peer, assignMethod, assignment)
    if (answer.missing.length > 0) {
      const bytes = new Map([
        [hashes.graph, blobs.graph],
        [hashes.params, blobs.params],
      ])
      for (const hash of answer.missing) await this.#sendBlob(peer, hash, bytes.get(hash))
      answer = await this.#call(peer, assignMethod, assignment)
    }
    if (answer.missing.length > 0)
      throw new WorkerLostError(
        `${peer.peerId} still lacks blobs ${answer.missing.join(', ')} after they were sent`,
      )
  }

  /**
   * Runs one step on every stage and commits it. If a stage fails, or misses a heartbeat while the
   * step runs, the step is aborted everywhere at once (stages waiting on the lost one stop waiting)
   * and StepFailedError names the peers that were lost: those that did not answer (a worker that
   * answered with an error, e.g. that its downstream peer is gone, is not lost). With S-SGD, a step
   * whose replicas did not all apply the same gradient means (agreement.ts) is aborted and run again;
   * replicas still apart after MAX_STEP_ATTEMPTS are named lost.
   */
  async runStep(): Promise<StepResult> {
    const step = this.#next
    const t0 = performance.now()
    for (let attempt = 1; ; attempt++) {
      const live = this.#live()
      const all = await this.#runOnEveryWorker(step, live)
      const odd = disagreeing(
        all.map((a, i) => ({
          peer: live[i].peer.peerId,
          stage: this.#placeOf(live[i].k).stage,
          rounds: a.sync?.rounds ?? [],
        })),
      )
      if (odd.length === 0)
        return { ...(await this.#commit(step, live, all)), seconds: (performance.now() - t0) / 1000 }
      await this.#abortEverywhere(step, live)
      if (attempt === MAX_STEP_ATTEMPTS)
        throw new StepFailedError(
          `step ${step}: ${odd.join(', ')} applied other gradient means than their stages' in ${attempt} tries (no member told them a round's outcome)`,
          step,
          odd,
        )
    }
  }

  /** The step's forward and backward on every live worker; their answers, in `live`'s order. */
  async #runOnEveryWorker(step: number, live: readonly Placed[]): Promise<StepAnswer[]> {
    const job = this.#init.id
    const timeoutMs = this.#init.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS
    const lost = new Map<string, Error>()
    const failures: string[] = []
    let aborting: Promise<unknown> | undefined
    // once the abort has reached the workers, a call that has not ended soon after is given up
    // (a dead peer's may not fail for a long time) and its peer counted as lost
    const giveUp = new AbortController()
    const fail = (peer: JobPeer, error: Error) => {
      // a worker that answered, even with an error (its downstream peer died), is not lost
      if (!(error instanceof CtrlRemoteError)) lost.set(peer.peerId, error)
      else if (error.remoteName !== 'JobAbortedError') failures.push(`${peer.peerId}: ${error.message}`)
      aborting ??= this.#abortEverywhere(step, live).then(() =>
        setTimeout(() => giveUp.abort(), ABORT_GRACE_MS).unref(),
      )
    }
    const running = new AbortController()
    const beats = this.#heartbeats(step, live, running.signal, fail)
    const settled = await Promise.all(
      live.map(({ peer }) =>
        this.#call(peer, stepMethod, { job, step }, timeoutMs, giveUp.signal).catch((err: Error) => {
          fail(peer, err)
          return undefined
        }),
      ),
    )
    running.abort()
    await beats
    await aborting
    if (aborting !== undefined) {
      const causes = [...[...lost].map(([peer, err]) => `${peer} lost: ${err.message}`), ...failures]
      throw new StepFailedError(`step ${step} failed: ${causes.join('; ')}`, step, [...lost.keys()])
    }
    return settled as StepAnswer[]
  }

  /** Drops the step on every live worker (best effort: one that is gone drops it anyway). */
  async #abortEverywhere(step: number, live: readonly Placed[]): Promise<void> {
    const job = this.#init.id
    await Promise.allSettled(
      live.map(({ peer }) => this.#call(peer, abortMethod, { job, step }, ABORT_TIMEOUT_MS)),
    )
  }

  /** The clipped update, committed on every live worker; the step's figures but its time. */
  async #commit(
    step: number,
    live: readonly Placed[],
    all: StepAnswer[],
  ): Promise<Omit<StepResult, 'seconds'>> {
    // replicas hold the same parameters (their gradients averaged, or their own between averages):
    // the first live replica of each stage speaks for it; the loss is every live pipeline's
    const speakers = new Set(this.#speakers().map(({ k }) => k))
    const spoken = (i: number) => speakers.has(live[i].k)
    const answers = all.filter((_, i) => spoken(i))
    const sums = new Map(answers.flatMap((a) => a.sums.map((x) => [x.param, x.sum] as const)))
    const gradNorm = combineGradNorm([...this.#init.model.graph.parameters].map((p) => sums.get(p) ?? 0))
    const coef = this.#init.clipNorm === undefined ? 1 : clipCoefficient(gradNorm, this.#init.clipNorm)
    const lr = lrAt(this.#init.lrSchedule, step)
    await Promise.all(
      live.map(({ peer }) => this.#call(peer, commitMethod, { job: this.#init.id, step, coef, lr })),
    )
    this.#next = step + 1
    const lastStage = all.filter((_, i) => this.#placeOf(live[i].k).stage === this.#graphs.length - 1)
    const losses = lastStage.flatMap((a) => a.losses)
    return {
      step,
      loss: losses.reduce((a, b) => a + b, 0) / losses.length,
      lr,
      gradNorm,
      stages: answers.map((a) => ({ busySeconds: a.busySeconds, waitSeconds: a.waitSeconds })),
      ...syncOf(all, (i) => (spoken(i) ? this.#placeOf(live[i].k).stage : undefined)),
      links: all.flatMap((a, i) =>
        a.sent.map((x) => ({ from: live[i].peer.peerId, to: x.to, bytes: x.bytes })),
      ),
      leaving: all.flatMap((a, i) => (a.leaving ? [live[i].peer.peerId] : [])),
    }
  }

  /**
   * Goes on without the pipelines of `lost` peers (lost, or leaving), when the job has replicas and a
   * pipeline is left whole (false otherwise: the job must re-plan). Called between steps (a step that
   * lost them was aborted everywhere): those pipelines' peers are released, and every live worker
   * regroups its stage's replicas from the members left, each replica going on from its own state at
   * the next step. StepFailedError names a worker lost meanwhile.
   */
  async leave(lost: readonly string[]): Promise<boolean> {
    if ((this.#init.replicas ?? 1) === 1) return false
    const gone = new Set(lost)
    const live = this.#live()
    const broken = new Set(
      live.filter(({ peer }) => gone.has(peer.peerId)).map(({ k }) => this.#placeOf(k).replica),
    )
    const released = live.filter(({ k }) => broken.has(this.#placeOf(k).replica))
    if (broken.size === 0 || released.length === live.length) return false
    for (const { k } of released) this.#peers[k] = undefined
    const job = this.#init.id
    // a peer that is gone does not answer; one leaving, or left without its pipeline, stops the job now
    await Promise.allSettled(
      released.map(({ peer }) => this.#call(peer, stopMethod, { job }, ABORT_TIMEOUT_MS)),
    )
    const members = this.#members()
    await this.#onEveryWorker('regrouping', this.#live(), (peer) =>
      this.#call(peer, regroupMethod, { job, step: this.#next, members }),
    )
    return true
  }

  /**
   * Fills empty pipelines with `fresh` peers (one per stage each, in the order given) between steps,
   * with no checkpoint: each joiner is assigned its stage to join its replicas' sync group at the round
   * it runs next, then the live replicas admit it and the first of its stage sends it its parameters,
   * optimizer and synchronizer state. `links`: the measured links, the joiners' among them. Returns
   * the peers given work. StepFailedError names a worker lost meanwhile.
   */
  async admit(fresh: readonly JobPeer[], links: readonly LinkProfile[]): Promise<JobPeer[]> {
    const replicas = this.#init.replicas ?? 1
    const stages = this.#graphs.length
    const running = new Set(this.peers.map((p) => p.peerId))
    const twice = fresh.find((p) => running.has(p.peerId))
    if (twice !== undefined) throw new JobStateError(`${twice.peerId} runs the job already`)
    const joiners: Placed[] = []
    for (const r of this.emptyPipelines) {
      const pipeline = fresh.slice(joiners.length, joiners.length + stages)
      if (pipeline.length < stages) break
      for (const [s, peer] of pipeline.entries()) joiners.push({ peer, k: s * replicas + r })
    }
    if (joiners.length === 0) return []
    const staying = this.#live()
    // each stage's sync group as its first live replica runs it next: the joiners start there
    const groups: { round: number; members: string[] }[] = []
    await this.#onEveryWorker('asking the replicas', this.#speakers(), async (peer, k) => {
      const { sync } = await this.#call(peer, statusMethod, { job: this.#init.id })
      if (sync === undefined) throw new JobStateError(`${peer.peerId} reports no sync group`)
      groups[this.#placeOf(k).stage] = sync
    })
    this.#links = links
    for (const { peer, k } of joiners) this.#peers[k] = peer
    const ids = joiners.map(({ peer }) => peer.peerId)
    const state = stateUpdates(this.#init.model.graph)
    await this.#onEveryWorker('assigning the joiners', joiners, (_, k) => {
      const { stage } = this.#placeOf(k)
      const group = groups[stage]
      const mine = joiners.filter((j) => this.#placeOf(j.k).stage === stage).map((j) => j.peer.peerId)
      return this.#assignStage(k, state, { round: group.round, members: [...group.members, ...mine] })
    })
    const members = this.#members()
    const live = new Set(members.map((m) => m.peerId))
    const memberLinks = this.#links.filter((l) => live.has(l.a) && live.has(l.b))
    await this.#onEveryWorker('admitting the joiners', staying, (peer) =>
      this.#call(peer, admitMethod, {
        job: this.#init.id,
        step: this.#next,
        members,
        joiners: ids,
        links: memberLinks,
      }),
    )
    return joiners.map(({ peer }) => peer)
  }

  /**
   * Runs `call` on every worker of `placed` at once (a membership change); StepFailedError names those
   * that failed it, unreachable or refusing (a joiner that does not take this coordinator's stages, a
   * replica that cannot regroup): their pipelines leave, and the job goes on without them.
   */
  async #onEveryWorker(
    what: string,
    placed: readonly Placed[],
    call: (peer: JobPeer, k: number) => Promise<unknown>,
  ): Promise<void> {
    const lost = new Map<string, Error>()
    await Promise.all(
      placed.map(({ peer, k }) => call(peer, k).catch((err: Error) => void lost.set(peer.peerId, err))),
    )
    if (lost.size > 0) {
      const causes = [...lost].map(([peer, err]) => `${peer}: ${err.message}`).join('; ')
      throw new StepFailedError(`${what} at step ${this.#next} failed: ${causes}`, this.#next, [
        ...lost.keys(),
      ])
    }
  }

  /** While a step runs, asks every worker how it is; one that does not answer in time is lost. */
  async #heartbeats(
    step: number,
    live: readonly Placed[],
    signal: AbortSignal,
    fail: (peer: JobPeer, error: Error) => void,
  ) {
    const every = this.#init.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
    const timeoutMs = this.#init.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS
    while (!signal.aborted) {
      await sleep(every, undefined, { signal }).catch(() => {})
      if (signal.aborted) return
      await Promise.all(
        live.map(({ peer }) =>
          this.#call(peer, statusMethod, { job: this.#init.id }, timeoutMs).catch((err: Error) => {
            if (!signal.aborted)
              fail(peer, new WorkerLostError(`missed a heartbeat during step ${step}: ${err.message}`))
          }),
        ),
      )
    }
  }

  /**
   * Each stage's checkpoint as of the last committed step (runtime's checkpointBytes, in stage
   * order), sent by the workers over /atoll/tensor/1 and checked against the hash they answered.
   */
  async checkpoints(): Promise<Uint8Array[]> {
    const step = this.#next
    const arrived = new Map<string, Uint8Array>()
    const waiters = new Map<string, (bytes: Uint8Array) => void>()
    const first = this.#speakers().map(({ peer }) => peer)
    const peers = new Set(first.map((p) => p.peerId))
    const unsubscribe = this.#mesh.tensors.onMessage(({ from, header, payload }) => {
      const prefix = edgeName.checkpoint('')
      if (header.job !== this.#init.id || !peers.has(from) || !header.edge.startsWith(prefix)) return
      const hash = header.edge.slice(prefix.length)
      if (blobHashOf(payload) !== hash) return
      const waiter = waiters.get(hash)
      if (waiter) waiter(payload)
      else arrived.set(hash, payload)
    })
    // a worker that cannot be reached is lost, as in a step: the job re-plans from the last checkpoint
    const lost = new Map<string, Error>()
    try {
      const saved = await Promise.all(
        first.map(async (peer, s) => {
          const timeoutMs = saveTimeoutMs(this.#graphs[s])
          const answer = await this.#call(peer, saveMethod, { job: this.#init.id, step }, timeoutMs).catch(
            (err: Error) => {
              if (err instanceof CtrlRemoteError) throw err
              lost.set(peer.peerId, err)
            },
          )
          if (answer === undefined) return undefined
          // the worker answers once its bytes were received here: they have come, or never will
          // (a payload that does not match its hash is dropped)
          const bytes =
            arrived.get(answer.hash) ??
            (await new Promise<Uint8Array | undefined>((resolve) => {
              const late = setTimeout(() => resolve(undefined), CHECKPOINT_ARRIVAL_MS)
              waiters.set(answer.hash, (payload) => {
                clearTimeout(late)
                resolve(payload)
              })
            }))
          if (bytes === undefined)
            lost.set(
              peer.peerId,
              new WorkerLostError(
                `answered save with checkpoint ${answer.hash}, whose bytes did not come within ${CHECKPOINT_ARRIVAL_MS / 1000} s`,
              ),
            )
          return bytes
        }),
      )
      if (lost.size > 0) {
        const causes = [...lost].map(([peer, err]) => `${peer} lost: ${err.message}`).join('; ')
        throw new StepFailedError(`saving step ${step} failed: ${causes}`, step, [...lost.keys()])
      }
      return saved as Uint8Array[]
    } finally {
      unsubscribe()
    }
  }

  /** Ends the job on every worker (best effort: a lost worker drops it on its own). */
  async stop(): Promise<void> {
    await Promise.allSettled(
      this.#live().map(({ peer }) => this.#call(peer, stopMethod, { job: this.#init.id })),
    )
  }

  #placeOf(k: number): { stage: number; replica: number } {
    const replicas = this.#init.replicas ?? 1
    return { stage: Math.floor(k / replicas), replica: k % replicas }
  }

  #assignment(
    stage: number,
    replica: number,
    hashes: { graph: string; params: string },
    state: Assignment['stage']['state'],
  ): Assignment {
    const init = this.#init
    const { partition } = init
    const input = init.model.graph.inputs.find((i) => i.name === init.model.dataInput)
    const codec = init.codec ?? (() => ({ codec: 'dense' as const, keep: 1 }))
    return {
      job: init.id,
      step: this.#next,
      steps: init.steps,
      stage: {
        index: stage,
        count: partition.stages.length,
        ...hashes,
        state,
        ...(init.inFlight === undefined ? {} : { inFlight: init.inFlight[stage] }),
      },
      members: this.#members(),
      replica: { index: replica, count: init.replicas ?? 1 },
      ...(init.sync === undefined ? {} : { sync: this.#syncOf(stage) }),
      edges: partition.edges
        .filter((e) => e.from === stage || e.to === stage)
        .map((e) => ({
          value: e.value,
          from: e.from,
          to: e.to,
          dtype: e.dtype,
          shape: e.shape,
          gradient: e.gradient,
          ...codec(e),
        })),
      tied: [...partition.parameterStages]
        .filter(([, stages]) => stages.length > 1)
        .map(([param, stages]) => ({ param, stages })),
      loss: partition.loss,
      microBatches: init.microBatches,
      schedule: init.schedule ?? '1f1b',
      optimizer: init.optimizer,
      data:
        init.data && input
          ? { ...init.data, input: { name: input.name, dtype: input.dtype, shape: [...(input.shape ?? [])] } }
          : undefined,
    }
  }

  /** The job's live workers with their places, as an assignment lists them. */
  #members(): Assignment['members'] {
    return this.#live().map(({ peer, k }) => ({ ...peer, ...this.#placeOf(k) }))
  }

  /** The sync spec and the measured links between stage s's live replicas. */
  #syncOf(stage: number): NonNullable<Assignment['sync']> {
    const sync = this.#init.sync as NonNullable<CoordinatorInit['sync']>
    const replicas = new Set(
      this.#live()
        .filter(({ k }) => this.#placeOf(k).stage === stage)
        .map(({ peer }) => peer.peerId),
    )
    return { spec: sync.spec, links: this.#links.filter((l) => replicas.has(l.a) && replicas.has(l.b)) }
  }

  async #sendBlob(peer: JobPeer, hash: string, bytes: Uint8Array | undefined): Promise<void> {
    if (bytes === undefined)
      throw new WorkerLostError(`${peer.peerId} asked for blob ${hash}, which is not this job's`)
    const fields = {
      job: this.#init.id,
      step: 0,
      mb: 0,
      edge: edgeName.blob(hash),
      dtype: 'uint8' as const,
      shape: [bytes.byteLength],
      codec: 'raw' as const,
      codecMeta: {},
    }
    await this.#mesh.tensors.send(
      peer.addresses.map((a) => multiaddr(a)),
      fields,
      bytes,
    )
  }

  #call<Req, Res>(
    peer: JobPeer,
    method: CtrlMethod<Req, Res>,
    params: Req,
    timeoutMs?: number,
    signal?: AbortSignal,
  ): Promise<Res> {
    return this.#mesh.ctrl.call(
      peer.addresses.map((a) => multiaddr(a)),
      method,
      params,
      {
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        ...(signal === undefined ? {} : { signal }),
      },
    )
  }
}

/**
 * The replicas' synchronisation in a step, from every worker's answer (none without replicas); the
 * periods as each stage's speaker saw them (`speaks`: the stage answer i speaks for, if any).
 */
function syncOf(
  answers: readonly StepAnswer[],
  speaks: (i: number) => number | undefined,
): Pick<StepResult, 'sync'> {
  if (answers.every((a) => a.sync === undefined)) return {}
  const seconds = Math.max(...answers.map((a) => a.sync?.seconds ?? 0))
  const bytes = answers.reduce((sum, a) => sum + (a.sync?.bytes ?? 0), 0)
  const periods = answers.flatMap((a, i) => {
    const stage = speaks(i)
    return stage === undefined ? [] : (a.sync?.periods ?? []).map((p) => ({ ...p, stage }))
  })
  return { sync: { seconds, bytes, periods } }
}
