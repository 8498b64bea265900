/**
 * The worker role of a peer daemon: it takes stages of jobs from coordinators on its allow-list,
 * holds the blobs they send (checked against their sha-256 names), runs each job's stage when its
 * coordinator asks and applies the update when it commits. Its tensor gate refuses, at the header,
 * any tensor for a job it does not run or from a peer that is not a member of it. A job whose
 * coordinator has sent nothing for the job timeout is dropped (silence.ts).
 */
import type { TensorHeader } from '@atoll/compress'
import type { AtollMesh, IncomingTensor } from '@atoll/net'
import type { Backend } from '@atoll/runtime'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import { JobAssignmentError, JobStateError } from './errors.ts'
import type { DropKind } from './mailbox.ts'
import {
  abortMethod,
  admitMethod,
  type Assignment,
  assignMethod,
  commitMethod,
  regroupMethod,
  saveMethod,
  statusMethod,
  stepMethod,
  stopMethod,
} from './rpc.ts'
import { CoordinatorSilence } from './silence.ts'
import { blobHashOf, unpackStage } from './stage-blob.ts'
import { StageJob, type StepAnswer } from './stage-job.ts'

/** Who may hand this peer work: listed peer ids, or anyone (said explicitly, logged as a warning). */
export type AllowList = 'any' | ReadonlySet<string>

export interface JobWorkerInit {
  mesh: AtollMesh
  log: Logger
  /** the backend stages run on (the daemon's --device), started on first use */
  backend(): Promise<Backend>
  allow: AllowList
  /** bytes of blobs kept at once (default 8 GiB); the oldest go first */
  maxBlobBytes?: number
  /** a job whose coordinator has sent nothing (no step, commit, save…) for this long is dropped (default 10 min) */
  jobTimeoutMs?: number
  /** onnxruntime's threads per session run of a stage (default onnxruntime's choice) */
  computeThreads?: number
  /** a job's tensor was dropped by its mailbox (for the daemon's metrics) */
  onTensorDropped?(kind: DropKind): void
  /** told of every step a stage of a job ran (for the daemon's per-job metrics) */
  onStep?(job: string, answer: StepAnswer): void
}

const BLOB_PREFIX = 'blob:'
const DEFAULT_MAX_BLOB_BYTES = 8 * 2 ** 30
/** As long as a coordinator waits for a step before it declares the worker lost (coordinator.ts). */
export const DEFAULT_JOB_TIMEOUT_MS = 10 * 60_000
/** How often a leaving worker looks whether its jobs have let it go. */
const LEAVE_POLL_MS = 50

export class JobWorker {
  readonly #init: JobWorkerInit
  readonly #jobs = new Map<string, StageJob>()
  readonly #blobs = new Map<string, Uint8Array>()
  readonly #silence: CoordinatorSilence
  #blobBytes = 0
  /** stopping: steps still answer, saying so, and no stage is taken */
  #leaving = false

  constructor(init: JobWorkerInit) {
    this.#init = init
    if (init.allow === 'any') init.log.warn('this peer accepts stages from any coordinator (--allow any)')
    this.#silence = new CoordinatorSilence(init.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS, (job) => {
      this.#dropSilent(job).catch((err: Error) =>
        init.log.error({ job, err: { name: err.name, message: err.message } }, 'dropping a job failed'),
      )
    })
  }

  /** Serves the job methods on the mesh's ctrl protocol. */
  serve(): void {
    const { ctrl } = this.#init.mesh
    ctrl.serve(assignMethod, (request, from) => this.#assign(request, from))
    ctrl.serve(stepMethod, ({ job, step }, from) =>
      this.#serving(job, from, async (j) => {
        const answer = await j.step(step)
        this.#init.onStep?.(job, answer)
        return this.#leaving ? { ...answer, leaving: true } : answer
      }),
    )
    ctrl.serve(commitMethod, ({ job, step, coef, lr }, from) =>
      this.#serving(job, from, async (j) => ({ applied: await j.commit(step, coef, lr) })),
    )
    ctrl.serve(abortMethod, ({ job, step }, from) =>
      this.#serving(job, from, async (j) => {
        j.abort(step)
        return {}
      }),
    )
    // the coordinator's heartbeat while a step runs: a long step is not silence
    ctrl.serve(statusMethod, ({ job }, from) => {
      const running = this.#job(job, from)
      this.#silence.heard(job)
      return running.status
    })
    ctrl.serve(saveMethod, ({ job, step }, from) => this.#serving(job, from, (j) => j.save(step)))
    ctrl.serve(regroupMethod, ({ job, step, members }, from) =>
      this.#serving(job, from, async (j) => {
        await j.regroup(step, members)
        this.#init.log.info({ job, step, members: members.length }, 'job members regrouped')
        return {}
      }),
    )
    ctrl.serve(admitMethod, ({ job, step, members, joiners, links }, from) =>
      this.#serving(job, from, async (j) => {
        await j.admit(step, members, joiners, links)
        this.#init.log.info({ job, step, joiners }, 'joiners admitted')
        return {}
      }),
    )
    ctrl.serve(stopMethod, async ({ job }, from) => {
      const running = this.#job(job, from)
      this.#jobs.delete(job)
      this.#silence.forget(job)
      await running.release()
      this.#init.log.info({ job }, 'job stopped')
      return {}
    })
  }

  /** The tensor gate: undefined admits, a reason refuses before any payload is read. */
  gate(header: TensorHeader, from: string): string | undefined {
    if (header.edge.startsWith(BLOB_PREFIX))
      return this.#allowed(from) ? undefined : `${from} is not a coordinator this peer accepts`
    const job = this.#jobs.get(header.job)
    if (job === undefined) return `job '${header.job}' is not run here`
    if (!job.assignment.members.some((m) => m.peerId === from))
      return `${from} is not a member of job '${header.job}'`
    return undefined
  }

  /** Files a job's tensor; false when the message is not a job's (the daemon's other jobs take it). */
  received(msg: IncomingTensor): boolean {
    const { header, from, payload } = msg
    const log = this.#init.log
    if (header.edge.startsWith(BLOB_PREFIX)) {
      const hash = header.edge.slice(BLOB_PREFIX.length)
      if (!this.#allowed(from) || header.dtype !== 'uint8') return true
      if (blobHashOf(payload) !== hash)
        log.warn({ from, hash }, 'blob dropped: its bytes do not match its name')
      else this.#keepBlob(hash, payload)
      return true
    }
    const job = this.#jobs.get(header.job)
    if (job === undefined) return false
    const dropped = job.mailbox.put(msg)
    if (dropped !== undefined) {
      this.#init.onTensorDropped?.(dropped.kind)
      const { step, mb, edge } = header
      log.warn({ job: header.job, from, step, mb, edge, ...dropped }, 'tensor dropped')
    }
    return true
  }

  /**
   * The daemon is stopping: a step in hand still ends and its answer tells the coordinator, which
   * takes this peer's pipeline out (or re-plans) at that step's end and stops the job here. Resolves
   * once every job is stopped so, or after `graceMs`; then stops what is left.
   */
  async leave(graceMs: number): Promise<void> {
    this.#leaving = true
    const until = performance.now() + graceMs
    while (this.#jobs.size > 0 && performance.now() < until) await sleep(LEAVE_POLL_MS)
    await this.stop()
  }

  /** Stops every job's stage (the daemon is stopping). */
  async stop(): Promise<void> {
    const jobs = [...this.#jobs.values()]
    this.#jobs.clear()
    this.#silence.clear()
    await Promise.allSettled(jobs.map((j) => j.release()))
  }

  get jobs(): readonly string[] {
    return [...this.#jobs.keys()]
  }

  async #assign(request: Assignment, from: string): Promise<{ missing: string[] }> {
    const log = this.#init.log
    if (this.#leaving) throw new JobAssignmentError('this peer is stopping')
    if (!this.#allowed(from)) {
      log.warn({ from, job: request.job }, 'stage refused: coordinator not on the allow-list')
      throw new JobAssignmentError(`coordinator ${from} is not on this peer's allow-list`)
    }
    const self = this.#init.mesh.peerId
    const mine = request.members.find((m) => m.peerId === self)
    if (mine === undefined || mine.stage !== request.stage.index || mine.replica !== request.replica.index)
      throw new JobAssignmentError(
        `the assignment gives replica ${request.replica.index} of stage ${request.stage.index} to another peer than ${self}`,
      )
    const missing = [request.stage.graph, request.stage.params].filter((h) => !this.#blobs.has(h))
    if (missing.length > 0) return { missing }
    const existing = this.#jobs.get(request.job)
    if (existing !== undefined && existing.coordinator !== from)
      throw new JobAssignmentError(`job '${request.job}' is run here for coordinator ${existing.coordinator}`)
    const { graph, optimizer } = unpackStage({
      graph: this.#blobs.get(request.stage.graph) as Uint8Array,
      params: this.#blobs.get(request.stage.params) as Uint8Array,
    })
    const job = await StageJob.create({
      assignment: request,
      coordinator: from,
      graph,
      optimizer,
      backend: await this.#init.backend(),
      computeThreads: this.#init.computeThreads,
      mesh: this.#init.mesh,
      log: this.#init.log,
    })
    this.#jobs.delete(request.job)
    await existing?.release()
    this.#jobs.set(request.job, job)
    this.#silence.heard(request.job)
    log.info(
      { job: request.job, stage: request.stage.index, of: request.stage.count, from, step: request.step },
      'stage assigned',
    )
    return { missing: [] }
  }

  #job(id: string, from: string): StageJob {
    const job = this.#jobs.get(id)
    if (job === undefined) throw new JobStateError(`job '${id}' is not run here`)
    if (job.coordinator !== from)
      throw new JobStateError(`job '${id}' is driven by ${job.coordinator}, not ${from}`)
    return job
  }

  /** A call from the coordinator of job `id`, which restarts the job's silence timer. */
  #serving<T>(id: string, from: string, call: (job: StageJob) => Promise<T>): Promise<T> {
    const job = this.#job(id, from)
    return this.#silence.serving(id, () => call(job))
  }

  /** The coordinator of `id` has been silent for the job timeout: its stage is released, as `stop` would. */
  async #dropSilent(id: string): Promise<void> {
    const job = this.#jobs.get(id)
    if (job === undefined) return
    this.#jobs.delete(id)
    const silentSeconds = (this.#init.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS) / 1000
    // a step still waiting for a tensor (its sender went away too) ends here, and nothing runs on the stage
    job.mailbox.fail(`job ${id} dropped: its coordinator has been silent for ${silentSeconds} s`)
    await this.#silence.ended(id)
    await job.release()
    this.#init.log.warn(
      { job: id, coordinator: job.coordinator, silentSeconds },
      'job dropped: its coordinator sent nothing for the job timeout',
    )
  }

  #allowed(peer: string): boolean {
    const { allow } = this.#init
    return allow === 'any' || allow.has(peer)
  }

  #keepBlob(hash: string, bytes: Uint8Array): void {
    if (this.#blobs.has(hash)) return
    const max = this.#init.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES
    for (const [old, b] of this.#blobs) {
      if (this.#blobBytes + bytes.byteLength <= max) break
      this.#blobs.delete(old)
      this.#blobBytes -= b.byteLength
    }
    this.#blobs.set(hash, bytes)
    this.#blobBytes += bytes.byteLength
  }
}
