/**
 * The coordinator of a pipeline job: it sends each worker its stage (blobs it lacks over
 * /atoll/tensor/1, the assignment over /atoll/ctrl/1), then drives the steps. Each step runs on every
 * stage at once, the stages trading boundary tensors among themselves; the coordinator gathers the
 * losses and each parameter's Σ g², computes the global norm as one process would (the same sums in
 * the model's parameter order), and commits the clipped update everywhere, or aborts it everywhere
 * when a stage failed: a step is applied on every stage or on none.
 */
import { type Graph, type Partition, type StateUpdate, stateUpdates, type Tensor } from '@atoll/core'
import { setTimeout as sleep } from 'node:timers/promises'
import { type AtollMesh, type CtrlMethod, CtrlRemoteError, multiaddr } from '@atoll/net'
import {
  clipCoefficient,
  combineGradNorm,
  type LrSchedule,
  lrAt,
  type OptimizerSpec,
  stageGraphsOf,
  type TrainableModel,
} from '@atoll/runtime'
import { JobStateError, StepFailedError, WorkerLostError } from './errors.ts'
import {
  abortMethod,
  type Assignment,
  assignMethod,
  commitMethod,
  type EdgeCodec,
  edgeName,
  type JobData,
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
  /** the peer of each stage, in stage order (one peer per stage) */
  peers: JobPeer[]
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
}

const DEFAULT_STEP_TIMEOUT_MS = 10 * 60_000
const DEFAULT_HEARTBEAT_MS = 2_000
/** How long an abort may take to reach a worker, and how long a step call may go on after it. */
const ABORT_TIMEOUT_MS = 5_000
const ABORT_GRACE_MS = 10_000
const DEFAULT_HEARTBEAT_TIMEOUT_MS = 10_000

export class JobCoordinator {
  readonly #mesh: AtollMesh
  readonly #init: CoordinatorInit
  readonly #graphs: Graph[]
  #next: number

  constructor(mesh: AtollMesh, init: CoordinatorInit) {
    if (init.peers.length !== init.partition.stages.length)
      throw new JobStateError(
        `${init.partition.stages.length} stages need as many peers, got ${init.peers.length}`,
      )
    if (new Set(init.peers.map((p) => p.peerId)).size !== init.peers.length)
      throw new JobStateError('a peer can run one stage of a job: the peers must be distinct')
    this.#mesh = mesh
    this.#init = init
    this.#graphs = stageGraphsOf(init.partition)
    this.#next = init.start ?? 0
  }

  get step(): number {
    return this.#next
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
      this.#graphs.map(async (graph, s) => {
        await this.#assignStage(graph, s, state).catch((err: Error) => {
          if (err instanceof CtrlRemoteError) refused.push(err)
          else lost.set(this.#init.peers[s].peerId, err)
        })
      }),
    )
    if (refused.length > 0) throw refused[0]
    if (lost.size > 0) {
      const causes = [...lost].map(([peer, err]) => `${peer}: ${err.message}`).join('; ')
      throw new StepFailedError(`assigning the stages failed: ${causes}`, this.#next, [...lost.keys()])
    }
  }

  async #assignStage(graph: Graph, s: number, state: StateUpdate[]): Promise<void> {
    const blobs = packStage(graph, this.#init.optimizerState)
    const hashes = { graph: blobHashOf(blobs.graph), params: blobHashOf(blobs.params) }
    const produced = new Set(graph.nodes.flatMap((n) => n.outputs))
    const assignment = this.#assignment(
      s,
      hashes,
      state.filter((u) => produced.has(u.update)),
    )
    const peer = this.#init.peers[s]
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
   * answered with an error, e.g. that its downstream peer is gone, is not lost).
   */
  async runStep(): Promise<StepResult> {
    const step = this.#next
    const t0 = performance.now()
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
      aborting ??= Promise.allSettled(
        this.#init.peers.map((p) => this.#call(p, abortMethod, { job, step }, ABORT_TIMEOUT_MS)),
      ).then(() => setTimeout(() => giveUp.abort(), ABORT_GRACE_MS).unref())
    }
    const running = new AbortController()
    const beats = this.#heartbeats(step, running.signal, fail)
    const settled = await Promise.all(
      this.#init.peers.map((peer) =>
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
    const answers = settled as StepAnswer[]
    const sums = new Map(answers.flatMap((a) => a.sums.map((x) => [x.param, x.sum] as const)))
    const gradNorm = combineGradNorm([...this.#init.model.graph.parameters].map((p) => sums.get(p) ?? 0))
    const coef = this.#init.clipNorm === undefined ? 1 : clipCoefficient(gradNorm, this.#init.clipNorm)
    const lr = lrAt(this.#init.lrSchedule, step)
    await Promise.all(
      this.#init.peers.map((peer) => this.#call(peer, commitMethod, { job: this.#init.id, step, coef, lr })),
    )
    this.#next = step + 1
    const losses = answers[answers.length - 1].losses
    return {
      step,
      loss: losses.reduce((a, b) => a + b, 0) / this.#init.microBatches,
      lr,
      gradNorm,
      seconds: (performance.now() - t0) / 1000,
      stages: answers.map((a) => ({ busySeconds: a.busySeconds, waitSeconds: a.waitSeconds })),
      links: answers.flatMap((a, s) =>
        a.sent.map((x) => ({ from: this.#init.peers[s].peerId, to: x.to, bytes: x.bytes })),
      ),
    }
  }

  /** While a step runs, asks every worker how it is; one that does not answer in time is lost. */
  async #heartbeats(step: number, signal: AbortSignal, fail: (peer: JobPeer, error: Error) => void) {
    const every = this.#init.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
    const timeoutMs = this.#init.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS
    while (!signal.aborted) {
      await sleep(every, undefined, { signal }).catch(() => {})
      if (signal.aborted) return
      await Promise.all(
        this.#init.peers.map((peer) =>
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
    const peers = new Set(this.#init.peers.map((p) => p.peerId))
    const unsubscribe = this.#mesh.tensors.onMessage(({ from, header, payload }) => {
      const prefix = edgeName.checkpoint('')
      if (header.job !== this.#init.id || !peers.has(from) || !header.edge.startsWith(prefix)) return
      const hash = header.edge.slice(prefix.length)
      if (blobHashOf(payload) !== hash) return
      const waiter = waiters.get(hash)
      if (waiter) waiter(payload)
      else arrived.set(hash, payload)
    })
    try {
      return await Promise.all(
        this.#init.peers.map(async (peer) => {
          const { hash } = await this.#call(peer, saveMethod, { job: this.#init.id, step })
          return arrived.get(hash) ?? new Promise<Uint8Array>((resolve) => waiters.set(hash, resolve))
        }),
      )
    } finally {
      unsubscribe()
    }
  }

  /** Ends the job on every worker (best effort: a lost worker drops it on its own). */
  async stop(): Promise<void> {
    await Promise.allSettled(
      this.#init.peers.map((peer) => this.#call(peer, stopMethod, { job: this.#init.id })),
    )
  }

  #assignment(
    stage: number,
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
      members: init.peers.map((p, s) => ({ ...p, stage: s })),
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
