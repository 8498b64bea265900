/**
 * One stage of a job, run by a worker: its runner (the same code a one-process pipeline runs, from
 * runtime's stageRunner), its parameters and optimizer, and its side of the 1F1B schedule. A forward
 * waits for its boundary inputs from the mesh and sends its outputs on without waiting for them to
 * arrive, so the stage computes micro-batch m+1 while m's activations are in flight; a backward sends
 * its input gradients back the same way. The update waits for the coordinator's commit. With
 * replicas, the stage's sync group changes between steps when pipelines leave or join (regroup,
 * admit), and a joiner takes a live replica's state before its first step.
 */
import {
  decodeTensor,
  type Encoded,
  ErrorFeedback,
  fp16,
  int8,
  keepCount,
  type MessageRoute,
  topk,
} from '@atoll/compress'
import { type Graph, type Tensor, tensor, tensorBytes, zeros } from '@atoll/core'
import { type AtollMesh, multiaddr } from '@atoll/net'
import {
  type Backend,
  type BatchStream,
  checkpointBytes,
  type Feed,
  gradPowerSums,
  makeOptimizer,
  microBatchView,
  type Optimizer,
  openDataSource,
  type Parameter,
  type PipelineStage,
  parametersOf,
  scaleGrads,
  stageOrder,
  stageRunner,
  type Value,
  zeroGrads,
} from '@atoll/runtime'
import type { GradientRound } from './agreement.ts'
import { JobAbortedError, JobStateError } from './errors.ts'
import { JobMailbox } from './mailbox.ts'
import { learnAddresses, type ReplicaSync, replicaSync, type SyncLog } from './replica-sync.ts'
import type { LinkProfile } from '@atoll/sched'
import type { PeriodEvent } from '@atoll/sync'
import { type Assignment, edgeName, type JobEdge } from './rpc.ts'
import { blobHashOf } from './stage-blob.ts'

export interface StepAnswer {
  losses: number[]
  sums: { param: string; sum: number }[]
  busySeconds: number
  waitSeconds: number
  sent: { to: string; bytes: number }[]
  /** a replica's synchronisation since its last answer (none without replicas) */
  sync?: {
    seconds: number
    bytes: number
    periods: Omit<PeriodEvent, 'kind'>[]
    /** S-SGD's gradient rounds of the step, as this replica applied them */
    rounds: GradientRound[]
  }
  /** the worker is stopping (set by it, not the stage): this is its last step */
  leaving?: boolean
}

/** Where a step stands: run and waiting for its commit, or not begun. */
type Phase = { kind: 'idle' } | { kind: 'running' } | { kind: 'ran'; step: number }

export class StageJob {
  readonly coordinator: string
  readonly mailbox: JobMailbox
  readonly #mesh: AtollMesh
  readonly #graph: Graph
  readonly #runner: PipelineStage
  readonly #params: Parameter[]
  readonly #optimizer: Optimizer
  readonly #data: BatchStream | undefined
  readonly #feedback = new ErrorFeedback()
  readonly #seed: Tensor
  #assignment: Assignment
  readonly #log: SyncLog
  readonly #device: Backend['device']
  /** how this stage's replicas synchronise (none without replicas); re-formed when pipelines leave */
  #sync: ReplicaSync | undefined
  /** a joiner: the live replica's state it takes before its first step */
  #joined: Promise<{ nextStep: number }> | undefined
  /** seconds in the sync hooks since the last step's answer */
  #syncSeconds = 0
  #syncBytes = 0
  #next: number
  #phase: Phase = { kind: 'idle' }
  /** aborts the step in hand's sends */
  #cancel = new AbortController()

  private constructor(init: StageJobInit, data: BatchStream | undefined, sync: ReplicaSync | undefined) {
    const a = init.assignment
    this.#sync = sync
    this.#assignment = a
    this.#log = init.log
    this.#device = init.backend.device
    this.coordinator = init.coordinator
    this.#mesh = init.mesh
    this.#graph = init.graph
    this.#data = data
    this.#next = a.step
    // in shared memory: onnxruntime's thread reads them in place, the optimizer's threads update them
    this.#params = parametersOf(init.graph, { shared: true })
    this.#runner = stageRunner(init.graph, {
      backend: init.backend,
      intraOpThreads: init.computeThreads,
      loss: a.loss,
      index: a.stage.index,
      count: a.stage.count,
      params: new Map(this.#params.map((p) => [p.name, p])),
      state: a.stage.state,
    })
    this.#optimizer = makeOptimizer(a.optimizer, this.#params)
    // a resumed job: the optimizer goes on from the checkpoint's buffers and step count (a joiner's
    // come from a live replica instead)
    if (a.step > 0 && a.joining === undefined)
      this.#optimizer.importState({
        ...this.#optimizer.exportState(),
        steps: a.step,
        tensors: new Map(init.optimizer),
      })
    this.#seed = tensor('float32', [], Float32Array.of(1 / a.microBatches))
    this.mailbox = new JobMailbox(a.microBatches)
    for (const e of a.edges) {
      if (e.to === a.stage.index) this.mailbox.expect(edgeName.activation(e.value), this.#expected(e, e.from))
      if (e.from === a.stage.index && e.gradient)
        this.mailbox.expect(edgeName.gradient(e.value), this.#expected(e, e.to))
    }
    for (const t of a.tied) {
      if (!t.stages.includes(a.stage.index)) continue
      const p = this.#param(t.param)
      for (const s of t.stages)
        if (s !== a.stage.index)
          this.mailbox.expect(edgeName.tied(t.param), {
            from: this.#peer(s),
            dtype: 'float32',
            shape: p.shape,
          })
    }
  }

  static async create(init: StageJobInit): Promise<StageJob> {
    const { data } = init.assignment
    const reads = new Set(init.graph.inputs.map((i) => i.name))
    const needsData = data !== undefined && (reads.has(data.input.name) || reads.has('targets'))
    const stream = needsData
      ? await openDataSource(
          data.dataset,
          { dataInput: data.input.name, graph: { inputs: [data.input] } },
          { batchSize: data.batchSize, seed: data.seed, split: 'train' },
        )
      : undefined
    const { joining } = init.assignment
    const sync = await replicaSync(
      init.assignment,
      init.mesh,
      init.log,
      init.backend.device,
      joining === undefined ? {} : { ...joining, joining: true },
    )
    const job = new StageJob(init, stream, sync)
    if (joining !== undefined && sync !== undefined) {
      job.#joined = sync.receiveState({ params: job.#params, optimizer: job.#optimizer })
      job.#joined.catch(() => {}) // awaited by the first step; not an unhandled rejection meanwhile
    }
    return job
  }

  get id(): string {
    return this.#assignment.job
  }

  /** What the coordinator assigned, with the job's members as they are now. */
  get assignment(): Assignment {
    return this.#assignment
  }

  /** Forward and backward of every micro-batch of `step` on this stage; gradients accumulate, nothing is applied. */
  async step(step: number): Promise<StepAnswer> {
    if (this.#joined !== undefined) await this.#takeJoinState(step)
    this.#atBoundary('step', step)
    this.#phase = { kind: 'running' }
    this.mailbox.begin(step)
    zeroGrads(this.#params)
    this.#cancel = new AbortController()
    const run = new StepRun(this, step, this.#data?.shuffled(step))
    try {
      await this.#runner.beginStep()
      try {
        for (const op of stageOrder(
          this.assignment.schedule,
          this.assignment.stage.count,
          this.assignment.microBatches,
          this.assignment.stage.index,
          this.assignment.stage.inFlight,
        )) {
          if (op.kind === 'F') await this.#forward(run, op.mb)
          else await this.#backward(run, op.mb)
        }
      } catch (err) {
        this.#runner.reset()
        throw err
      } finally {
        this.#runner.endStep()
      }
      await run.sent()
      await this.#sumTied(step, run)
      // S-SGD: the replicas' mean gradient, before the norm is reported and the update applied. An
      // abort ends the wait (a replica that died holds the round up to its deadlines): the round goes
      // on unwatched until the regroup or release that follows an abort closes its group
      const aborted = `job ${this.id}: step ${step} aborted`
      await this.#timedSync((sync) =>
        unlessAborted(sync.gradients(step, this.#params), this.#cancel.signal, aborted),
      )
      // aborted while nothing was left to wait for (a stage that receives nothing): dropped all the same
      if (this.#cancel.signal.aborted) throw new JobAbortedError(aborted)
    } catch (err) {
      this.#phase = { kind: 'idle' }
      this.#cancel.abort() // sends still in flight (to a peer that is gone) end now
      await run.sent().catch(() => {})
      throw err
    } finally {
      run.dispose() // after the sends: a value's host tensor may be what a send is reading
    }
    this.#phase = { kind: 'ran', step }
    return {
      losses: run.losses,
      sums: this.#sums(),
      busySeconds: run.busy,
      waitSeconds: run.wait,
      sent: [...run.bytesTo].map(([to, bytes]) => ({ to, bytes })),
      ...(this.#sync === undefined ? {} : { sync: this.#syncSince() }),
    }
  }

  /** Runs a sync hook, its time counted for the next answer. */
  async #timedSync(hook: (sync: ReplicaSync) => Promise<void>): Promise<void> {
    if (this.#sync === undefined) return
    const t0 = performance.now()
    try {
      await hook(this.#sync)
    } finally {
      this.#syncSeconds += (performance.now() - t0) / 1000
    }
  }

  #syncSince(): NonNullable<StepAnswer['sync']> {
    const seconds = this.#syncSeconds
    this.#syncSeconds = 0
    const periods = (this.#sync?.takePeriods() ?? []).map(({ kind: _, ...p }) => p)
    const rounds = this.#sync?.takeGradientRounds() ?? []
    const sent = this.#sync?.bytesSent() ?? 0
    const bytes = sent - this.#syncBytes
    this.#syncBytes = sent
    return { seconds, bytes, periods, rounds }
  }

  /** Applies the step that ran: gradients scaled by `coef`, one optimizer step at `lr`. */
  async commit(step: number, coef: number, lr: number): Promise<number> {
    if (this.#phase.kind !== 'ran' || this.#phase.step !== step)
      throw new JobStateError(
        `job ${this.id}: commit of step ${step}, but the stage has not run it (${this.#phase.kind})`,
      )
    scaleGrads(this.#params, coef)
    this.#optimizer.step(lr)
    this.#next = step + 1
    this.#phase = { kind: 'idle' }
    // the replicas' parameter averaging, where the algorithm has one after this step
    await this.#timedSync((sync) => sync.parameters(step, this.#params))
    return this.#next
  }

  /**
   * Pipelines that lost a peer are gone (the step that lost it was aborted): the stage's replicas
   * re-form their group from the live `members` at `step`, each going on from its own parameters,
   * optimizer and synchronizer state. Averaging still in flight in the last group is applied first
   * (a member that is gone is late in it; the others renormalise).
   */
  async regroup(step: number, members: Assignment['members']): Promise<void> {
    // a joiner regroups from the state it was sent (or fails, and its pipeline leaves too)
    if (this.#joined !== undefined) await this.#takeJoinState(step)
    this.#atBoundary('regroup', step)
    this.#checkMembers(members)
    this.#assignment = { ...this.#assignment, members, step }
    const last = this.#sync
    if (last === undefined) return
    await this.#timedSync((sync) => sync.settle())
    const state = last.exportState()
    this.#syncBytes -= last.bytesSent() // the new group counts from zero
    last.close()
    this.#sync = undefined
    this.#sync = await replicaSync(this.#assignment, this.#mesh, this.#log, this.#device, { state })
  }

  /** Joiners fill empty pipelines at `step`: this stage's replicas admit its joiners, the first live one sending its state. */
  async admit(
    step: number,
    members: Assignment['members'],
    joiners: readonly string[],
    links: readonly LinkProfile[],
  ): Promise<void> {
    this.#atBoundary('admit', step)
    this.#checkMembers(members)
    const { sync: spec } = this.#assignment
    // the joiners' links too: a later regroup forms a group with them
    this.#assignment = {
      ...this.#assignment,
      members,
      ...(spec ? { sync: { ...spec, links: [...links] } } : {}),
    }
    const sync = this.#sync
    if (sync === undefined) return
    const stage = this.#assignment.stage.index
    const mine = joiners.filter((p) => members.some((m) => m.peerId === p && m.stage === stage))
    await learnAddresses(
      this.#mesh,
      members.filter((m) => mine.includes(m.peerId)),
    )
    const replica = { params: this.#params, optimizer: this.#optimizer }
    for (const peer of mine) await this.#timedSync((s) => s.admit(peer, replica, step, links))
  }

  /** A joiner's first step: the live replica's state is loaded, and it is for this step. */
  async #takeJoinState(step: number): Promise<void> {
    const { nextStep } = await (this.#joined as Promise<{ nextStep: number }>)
    this.#joined = undefined
    if (nextStep !== step)
      throw new JobStateError(`job ${this.id}: the state received is for step ${nextStep}, not ${step}`)
  }

  /** Between steps, at `step`: where membership changes, saves and steps may begin. */
  #atBoundary(what: string, step: number): void {
    if (this.#phase.kind !== 'idle' || step !== this.#next)
      throw new JobStateError(
        `job ${this.id}: ${what} at step ${step}, the stage is at ${this.#next} (${this.#phase.kind})`,
      )
  }

  /** New members keep this worker where it is, and its pipeline whole (the peers its edges name). */
  #checkMembers(members: Assignment['members']): void {
    const { stage, replica } = this.#assignment
    const self = this.#mesh.peerId
    if (!members.some((m) => m.peerId === self && m.stage === stage.index && m.replica === replica.index))
      throw new JobStateError(`job ${this.id}: the new members do not keep ${self} at its place`)
    for (let s = 0; s < stage.count; s++) {
      const before = this.#assignment.members.find((m) => m.stage === s && m.replica === replica.index)
      const after = members.find((m) => m.stage === s && m.replica === replica.index)
      if (before?.peerId !== after?.peerId)
        throw new JobStateError(
          `job ${this.id}: the new members change pipeline ${replica.index}'s stage ${s}`,
        )
    }
  }

  /** Drops the step: its gradients are zeroed at the next step, waits in hand fail. */
  abort(step: number): void {
    this.mailbox.fail(`job ${this.id}: step ${step} aborted`)
    this.#cancel.abort()
    if (this.#phase.kind === 'ran') this.#phase = { kind: 'idle' }
  }

  /** The stage's checkpoint after the last committed step, sent to the coordinator; its name and size. */
  async save(step: number): Promise<{ hash: string; bytes: number }> {
    this.#atBoundary('save', step)
    // DreamDDP's averaging of the last step is in the weights the checkpoint keeps
    await this.#timedSync((sync) => sync.settle())
    const state = new Map(
      this.assignment.stage.state.map((u) => [u.state, this.#graph.initializers.get(u.state) as Tensor]),
    )
    const bytes = checkpointBytes(step, this.#params, this.#optimizer.exportState(), state)
    const hash = blobHashOf(bytes)
    const route = { job: this.id, step, mb: 0, edge: edgeName.checkpoint(hash) }
    const fields = {
      ...route,
      dtype: 'uint8' as const,
      shape: [bytes.byteLength],
      codec: 'raw' as const,
      codecMeta: {},
    }
    // the coordinator dialled this peer to assign the stage: its peer id reaches it
    await this.#mesh.tensors.send(this.coordinator, fields, bytes)
    return { hash, bytes: bytes.byteLength }
  }

  /** Where the stage stands: the step it is at and its phase (a heartbeat's answer). */
  get status(): { step: number; phase: Phase['kind']; sync?: { round: number; members: string[] } } {
    const sync = this.#sync
    const where = { step: this.#next, phase: this.#phase.kind }
    return sync === undefined ? where : { ...where, sync: { round: sync.round, members: [...sync.members] } }
  }

  async release(): Promise<void> {
    this.mailbox.fail(`job ${this.id} stopped`)
    this.#sync?.close()
    this.#optimizer.close()
    await this.#runner.release()
  }

  async #forward(run: StepRun, mb: number): Promise<void> {
    const a = this.assignment
    const feeds: Record<string, Feed> = {}
    for (const input of this.#graph.inputs) {
      const data = run.batch?.[input.name]
      // pipeline r trains on the r-th of the batch's R parts, each cut into the micro-batches
      const { index: r, count: R } = a.replica
      if (data !== undefined)
        feeds[input.name] = microBatchView(data, r * a.microBatches + mb, R * a.microBatches)
      else {
        const e = this.#edgeInto(input.name)
        feeds[input.name] = await run.receive(mb, edgeName.activation(e.value), this.#peer(e.from))
      }
    }
    const last = a.stage.index === a.stage.count - 1
    const out = await run.busyWith(() =>
      this.#runner.forward(mb, feeds, last ? { [a.loss]: this.#seed } : undefined),
    )
    run.keep(mb, out)
    if (last) run.losses[mb] = ((await out[a.loss].read()).data as Float32Array)[0]
    for (const e of a.edges) {
      if (e.from !== a.stage.index) continue
      const value = await out[e.value].read()
      run.send(this.#peer(e.to), mb, edgeName.activation(e.value), value, e, false)
    }
  }

  async #backward(run: StepRun, mb: number): Promise<void> {
    const a = this.assignment
    const s = a.stage.index
    const last = s === a.stage.count - 1
    const outputGrads: Record<string, Feed> = last ? { [a.loss]: this.#seed } : {}
    if (!last) {
      for (const o of this.#graph.outputs) {
        if (o.dtype !== 'float32') continue
        // the later stages' gradients, summed from the last back as one process sums them
        const from = a.edges
          .filter((e) => e.from === s && e.value === o.name && e.gradient)
          .sort((x, y) => y.to - x.to)
        let sum: Feed | undefined
        for (const e of from)
          sum = addGrads(sum, await run.receive(mb, edgeName.gradient(o.name), this.#peer(e.to)))
        outputGrads[o.name] = sum ?? zeros('float32', run.shapeOf(mb, o.name))
      }
    }
    const grads = await run.busyWith(() => this.#runner.backward(mb, outputGrads))
    for (const e of a.edges) {
      if (e.to !== s || !e.gradient) continue
      const g = grads[e.value]
      const value = g === undefined ? zeros('float32', e.shape) : await g.read()
      run.send(this.#peer(e.from), mb, edgeName.gradient(e.value), value, e, true)
    }
    for (const g of Object.values(grads)) run.later(g)
  }

  /** Tied weights: every holder sends its gradient to the others and sums all in stage order. */
  async #sumTied(step: number, run: StepRun): Promise<void> {
    const a = this.assignment
    const me = a.stage.index
    for (const t of a.tied) {
      if (!t.stages.includes(me)) continue
      const p = this.#param(t.param)
      const own = new Float32Array(p.grad)
      for (const s of t.stages)
        if (s !== me) run.bytesTo.set(this.#peer(s), (run.bytesTo.get(this.#peer(s)) ?? 0) + own.byteLength)
      const sends = t.stages
        .filter((s) => s !== me)
        .map((s) =>
          this.#sendRaw(
            this.#peer(s),
            { job: a.job, step, mb: me, edge: edgeName.tied(t.param) },
            tensor('float32', p.shape, own),
          ),
        )
      const total = new Float32Array(p.grad.length)
      for (const s of [...t.stages].sort((x, y) => x - y)) {
        const part =
          s === me
            ? own
            : (decodeIncoming(await this.mailbox.take(step, s, edgeName.tied(t.param), this.#peer(s)))
                .data as Float32Array)
        for (let i = 0; i < total.length; i++) total[i] += part[i]
      }
      p.grad.set(total)
      await Promise.all(sends)
    }
  }

  /** Σ g² per parameter; a tied parameter is reported by its first stage only. */
  #sums(): StepAnswer['sums'] {
    const me = this.assignment.stage.index
    const owner = new Map(this.assignment.tied.map((t) => [t.param, Math.min(...t.stages)]))
    const owned = this.#params.filter((p) => (owner.get(p.name) ?? me) === me)
    const sums = gradPowerSums(owned)
    return owned.map((p, k) => ({ param: p.name, sum: sums[k] }))
  }

  #edgeInto(value: string): JobEdge {
    const e = this.assignment.edges.find((x) => x.to === this.assignment.stage.index && x.value === value)
    if (e === undefined)
      throw new JobStateError(
        `job ${this.id}: nothing provides input '${value}' of stage ${this.assignment.stage.index}`,
      )
    return e
  }

  /** The peer of stage `stage` in this worker's pipeline (the same replica index). */
  #peer(stage: number): string {
    const replica = this.assignment.replica.index
    const m = this.assignment.members.find((x) => x.stage === stage && x.replica === replica)
    if (m === undefined)
      throw new JobStateError(`job ${this.id}: no member runs replica ${replica} of stage ${stage}`)
    return m.peerId
  }

  #param(name: string): Parameter {
    const p = this.#params.find((x) => x.name === name)
    if (p === undefined)
      throw new JobStateError(`job ${this.id}: tied parameter '${name}' is not one of this stage's`)
    return p
  }

  #expected(e: JobEdge, stage: number) {
    return { from: this.#peer(stage), dtype: e.dtype, shape: e.shape }
  }

  /** Sends a boundary tensor as its edge's codec says; gradients under top-k keep their error feedback. */
  encode(value: Tensor, edge: JobEdge, gradient: boolean): Encoded | undefined {
    if (edge.codec === 'dense' || value.dtype !== 'float32') return undefined
    const data = value.data as Float32Array
    if (edge.codec === 'fp16') return fp16.encode(data)
    if (edge.codec === 'int8') return int8.encode(data)
    const k = keepCount(data.length, edge.keep)
    const compress = (x: Float32Array) => topk.encode(x, { k, values: 'float16' })
    return gradient ? this.#feedback.step(edge.value, data, compress) : compress(data)
  }

  #sendRaw(peer: string, route: MessageRoute, value: Tensor): Promise<void> {
    const fields = {
      ...route,
      dtype: value.dtype,
      shape: [...value.shape],
      codec: 'raw' as const,
      codecMeta: {},
    }
    return this.#mesh.tensors.send(this.#addresses(peer), fields, tensorBytes(value), {
      signal: this.#cancel.signal,
    })
  }

  /** Sends `value` to `peer` on `edge`, encoded as the edge's codec says. */
  sendTensor(
    peer: string,
    route: MessageRoute,
    value: Tensor,
    edge: JobEdge,
    gradient: boolean,
  ): { bytes: number; sent: Promise<void> } {
    const encoded = this.encode(value, edge, gradient)
    if (encoded === undefined)
      return { bytes: value.data.byteLength, sent: this.#sendRaw(peer, route, value) }
    const fields = {
      ...route,
      dtype: 'float32' as const,
      shape: [...value.shape],
      codec: encoded.codec,
      codecMeta: encoded.codecMeta,
    }
    return {
      bytes: encoded.payload.byteLength,
      sent: this.#mesh.tensors.send(this.#addresses(peer), fields, encoded.payload, {
        signal: this.#cancel.signal,
      }),
    }
  }

  #addresses(peer: string) {
    const m = this.assignment.members.find((x) => x.peerId === peer)
    return (m?.addresses ?? []).map((a) => multiaddr(a))
  }
}

/** `work`, unless `signal` aborts first: then JobAbortedError, and `work` goes on with its failure ignored. */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal, reason: string): Promise<T> {
  work.catch(() => {})
  if (signal.aborted) return Promise.reject(new JobAbortedError(reason))
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(new JobAbortedError(reason))
    signal.addEventListener('abort', abort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort))
  })
}

export interface StageJobInit {
  assignment: Assignment
  /** the peer id the assignment came from; only it may drive the job */
  coordinator: string
  graph: Graph
  /** the optimizer's buffers from the checkpoint the job resumes from (empty for a new job) */
  optimizer: ReadonlyMap<string, Tensor>
  backend: Backend
  /** onnxruntime's threads per session run (default onnxruntime's choice) */
  computeThreads?: number
  mesh: AtollMesh
  /** the worker's log: the replicas' synchronisation records there */
  log: SyncLog
}

/** One step in progress on a stage: its batch, what it keeps for the backward, what it sent, its times. */
class StepRun {
  readonly losses: number[] = []
  /** payload bytes sent to each peer */
  readonly bytesTo = new Map<string, number>()
  busy = 0
  wait = 0
  readonly batch: Readonly<Record<string, Tensor>> | undefined
  readonly #job: StageJob
  readonly #step: number
  readonly #sends: Promise<void>[] = []
  readonly #shapes = new Map<number, Map<string, readonly number[]>>()
  readonly #values: Value[] = []

  constructor(job: StageJob, step: number, batch: Readonly<Record<string, Tensor>> | undefined) {
    this.#job = job
    this.#step = step
    this.batch = batch
  }

  async receive(mb: number, edge: string, from: string): Promise<Tensor> {
    const t0 = performance.now()
    const msg = await this.#job.mailbox.take(this.#step, mb, edge, from)
    this.wait += (performance.now() - t0) / 1000
    return decodeIncoming(msg)
  }

  async busyWith<T>(work: () => Promise<T>): Promise<T> {
    const t0 = performance.now()
    try {
      return await work()
    } finally {
      this.busy += (performance.now() - t0) / 1000
    }
  }

  send(peer: string, mb: number, edge: string, value: Tensor, e: JobEdge, gradient: boolean): void {
    const route = { job: this.#job.id, step: this.#step, mb, edge }
    const { bytes, sent } = this.#job.sendTensor(peer, route, value, e, gradient)
    this.bytesTo.set(peer, (this.bytesTo.get(peer) ?? 0) + bytes)
    sent.catch(() => {}) // awaited in sent(); never an unhandled rejection meanwhile
    this.#sends.push(sent)
  }

  /** Waits until every tensor this step sent has been acknowledged; the first failure throws. */
  async sent(): Promise<void> {
    await Promise.all(this.#sends)
  }

  keep(mb: number, out: Record<string, Value>): void {
    this.#shapes.set(mb, new Map(Object.entries(out).map(([k, v]) => [k, v.shape])))
    this.#values.push(...Object.values(out))
  }

  later(value: Value): void {
    this.#values.push(value)
  }

  shapeOf(mb: number, name: string): readonly number[] {
    const shape = this.#shapes.get(mb)?.get(name)
    if (shape === undefined) throw new JobStateError(`no forward output '${name}' for micro-batch ${mb}`)
    return shape
  }

  dispose(): void {
    for (const v of this.#values) v.dispose()
  }
}

function decodeIncoming(msg: { header: Parameters<typeof decodeTensor>[0]; payload: Uint8Array }): Tensor {
  return decodeTensor(msg.header, msg.payload)
}

/** A value read by two later stages gets the sum of their gradients (as one process adds them). */
function addGrads(existing: Feed | undefined, next: Tensor): Feed {
  if (existing === undefined) return next
  const a = existing as Tensor
  const sum = new Float32Array(a.data as Float32Array)
  const b = next.data as Float32Array
  for (let i = 0; i < sum.length; i++) sum[i] += b[i]
  return tensor('float32', a.shape, sum)
}
