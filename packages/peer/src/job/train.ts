/**
 * `atoll train JOB.yaml` behind the CLI: learn the membership from a daemon (capability reports and
 * the links its peers probed), plan with sched (OP-Fence by default), cut the model with core's
 * partition, hand each worker its stage and drive the steps; every `checkpoint.every` steps, at the
 * end and on Ctrl-C the stages' checkpoints come back and are written (job-checkpoint.ts), and the
 * held-out loss is measured on them here. With replicas, a peer lost mid-step takes its pipeline
 * out and the job goes on at that step over the pipelines left, each replica from its own state; at a
 * checkpoint, fresh peers fill empty pipelines from a live replica's state (no re-plan either way).
 * Otherwise a lost peer makes the coordinator re-plan over the peers left and go on from the last
 * complete checkpoint: every stage starts again from that step's weights and optimizer state, so no
 * stage keeps an update another lost; and fresh peers that no empty pipeline takes are given work by
 * a re-plan from the checkpoint just written.
 */
import { type Graph, partitionGraph, type Tensor } from '@atoll/core'
import type { AtollMesh } from '@atoll/net'
import {
  assignParameters,
  bindSymbols,
  evaluate,
  microBatchView,
  modelState,
  nodeBackends,
  openDataSource,
  parametersOf,
  type TrainableModel,
} from '@atoll/runtime'
import { formatPlan, type JobPlacement, placeJob } from '@atoll/sched'
import { boundaryCodec } from './boundary-codec.ts'
import { JobCoordinator, type JobPeer, type StepResult } from './coordinator.ts'
import { JobCheckpointError, JobStateError, StepFailedError } from './errors.ts'
import { JobHistory, type TrainSummary } from './history.ts'
import { type ModelCheckpoint, mergeStages, readJobCheckpoint, writeJobCheckpoint } from './job-checkpoint.ts'
import { gatherProfiles, type MeshProfile } from './profiles.ts'
import { datasetName, singlePeerRun } from './single-peer.ts'
import type { JobSpec } from './spec.ts'

export type { TrainSummary } from './history.ts'

export type TrainEvent =
  | { kind: 'links'; measured: number; total: number }
  | { kind: 'plan'; text: string; profile: MeshProfile; placement: JobPlacement }
  | { kind: 'step'; result: StepResult; predictedSeconds: number; tokens: number }
  | { kind: 'checkpoint'; step: number; dir: string }
  | { kind: 'eval'; step: number; loss: number }
  | { kind: 'lost'; peers: readonly string[]; step: number; resumeAt: number }
  | { kind: 'joined'; peers: readonly string[]; step: number }
  /**
   * `peers` were lost mid-step (`why: lost`) or said they are stopping (`stopping`): with replicas
   * their pipelines left and the job goes on at `step` with `pipelines` of them; with none left
   * whole (`pipelines: 0`, stopping only) it re-plans from a checkpoint taken at `step`
   */
  | {
      kind: 'left'
      peers: readonly string[]
      step: number
      pipelines: number
      why: 'lost' | 'stopping'
    }
  /** with replicas: `peers` filled empty pipelines at `step`, from a live replica's state */
  | { kind: 'admitted'; peers: readonly string[]; step: number; pipelines: number }

/** A change of who trains the job, as one line (`name` gives a peer's name for its id). */
export function membershipLine(
  event: Extract<TrainEvent, { kind: 'lost' | 'joined' | 'left' | 'admitted' }>,
  name: (id: string) => string = (id) => id,
): string {
  const peers = event.peers.map(name).join(', ')
  if (event.kind === 'lost')
    return `step ${event.step} failed: lost ${peers}; re-planning over the peers left, from the checkpoint at step ${event.resumeAt}`
  if (event.kind === 'joined') return `${peers} joined: re-planning from the checkpoint at step ${event.step}`
  if (event.kind === 'left' && event.why === 'lost')
    return `step ${event.step} failed: lost ${peers}; going on at step ${event.step} with the ${event.pipelines} pipeline(s) left whole`
  if (event.kind === 'left')
    return event.pipelines === 0
      ? `${peers} stopped after step ${event.step - 1}: re-planning over the peers left, from a checkpoint taken at step ${event.step}`
      : `${peers} stopped after step ${event.step - 1}: going on with the ${event.pipelines} pipeline(s) left whole`
  return `${peers} joined at step ${event.step}, given a live replica's state: ${event.pipelines} pipeline(s) now`
}

export interface TrainInit {
  job: JobSpec
  /** the coordinator's node, started */
  mesh: AtollMesh
  /** a daemon to learn the membership from (the job's peers, or the local daemon) */
  membership: string[]
  /** how long to wait for the daemons to have probed every link (default 120 s) */
  linkWaitMs?: number
  events(event: TrainEvent): void
  /** stops after the step in hand, with a checkpoint */
  signal?: AbortSignal
  /** a job checkpoint folder to go on from (its latest.json) */
  resume?: string
}

/** While a pipeline is empty, how often the membership is asked for peers to fill it (between checkpoints). */
const JOINER_LOOK_MS = 10_000
/** Re-plans after lost peers before the job gives up (joiners' re-plans are not counted). */
const MAX_REPLANS = 8

export async function trainJob(init: TrainInit): Promise<TrainSummary> {
  const { job } = init
  const run = await singlePeerRun(job)
  const model = run.model
  const firstBatch = run.data.shuffled(0)
  const heldOut = await heldOutBatches(job, model)
  const progress = new JobHistory(tokensPerStep(run.data.shuffled(0), model))
  // the last complete checkpoint: where the job starts, and restarts after a lost peer
  let restart: ModelCheckpoint | undefined = init.resume
    ? await readJobCheckpoint(init.resume, job.name)
    : undefined
  const lost = new Set<string>()
  let membership = init.membership
  let replans = 0
  for (;;) {
    if (restart) restore(model.graph, restart)
    const start = restart?.step ?? 0
    progress.rewind(start)
    const profile = await gatherProfiles(init.mesh, membership, {
      waitMs: init.linkWaitMs ?? 120_000,
      exclude: lost,
      progress: (measured, total) => init.events({ kind: 'links', measured, total }),
    })
    const placed = planJob(job, model, firstBatch, profile)
    init.events({
      kind: 'plan',
      text: formatPlan(placed.placement.plan),
      profile,
      placement: placed.placement,
    })
    progress.planned(profile, placed.placement)
    const coordinator = new JobCoordinator(init.mesh, {
      id: job.name,
      model,
      partition: placed.partition,
      peers: placed.peers,
      replicas: placed.replicas,
      ...(job.sync === undefined ? {} : { sync: { spec: { ...job.sync }, links: profile.links } }),
      codec: (edge) => boundaryCodec(placed.placement, edge),
      microBatches: job.microBatches,
      inFlight: placed.placement.plan.predicted.inFlight,
      optimizer: job.optimizer,
      lrSchedule: job.schedule,
      clipNorm: run.clipNorm,
      steps: job.steps,
      start,
      optimizerState: restart?.optimizer,
      data: { dataset: datasetName(job.data), batchSize: job.data.batchSize, seed: job.data.seed },
    })
    try {
      await coordinator.assign()
      const ended = await driveLive(init, coordinator, placed, progress, model, heldOut, {
        membership,
        lost,
      })
      restart = ended.saved
      if (ended.left !== undefined) {
        // peers stopped and no pipeline goes on without them: the next plan is made without them,
        // from the checkpoint taken when they stopped
        membership = profile.peers.filter((p) => !lost.has(p.id)).flatMap((p) => p.addresses)
        continue
      }
      if (ended.joined.length === 0) return progress.summary(job)
      // peers joined: the next plan gives them work, from the checkpoint just written
      init.events({ kind: 'joined', peers: ended.joined, step: coordinator.step })
    } catch (err) {
      if (!(err instanceof StepFailedError) || err.lost.length === 0 || ++replans > MAX_REPLANS) throw err
      for (const peer of err.lost) lost.add(peer)
      // nobody left to re-plan over: the step's own failure says what happened, not an empty membership
      if (profile.peers.every((p) => lost.has(p.id))) throw err
      restart = progress.lastCheckpoint ?? restart
      progress.replanned(err.step, err.lost, restart?.step ?? 0)
      init.events({ kind: 'lost', peers: err.lost, step: err.step, resumeAt: restart?.step ?? 0 })
      // a daemon that is left tells the membership, should the one asked first be the lost one
      membership = profile.peers.filter((p) => !lost.has(p.id)).flatMap((p) => p.addresses)
    } finally {
      await coordinator.stop()
    }
  }
}

/** The peers a job knows of: where to learn the membership, and who is lost to it. */
interface Members {
  membership: readonly string[]
  lost: Set<string>
}

/**
 * driveSteps, and with replicas a pipeline that lost a peer leaves: the job goes on at the step that
 * failed over the pipelines left. A failure that no pipeline survives, or one during the regroup, is
 * the caller's (a re-plan).
 */
async function driveLive(
  init: TrainInit,
  coordinator: JobCoordinator,
  placed: ReturnType<typeof planJob>,
  progress: JobHistory,
  model: TrainableModel,
  heldOut: Record<string, Tensor>[],
  members: Members,
): Promise<{ saved?: ModelCheckpoint; joined: string[]; left?: string[] }> {
  for (;;) {
    try {
      return await driveSteps(init, coordinator, placed.placement, progress, model, heldOut, members)
    } catch (err) {
      const gone = await goOnWithout(coordinator, err, members.lost)
      if (gone === undefined || !(err instanceof StepFailedError)) throw err
      const pipelines = placed.replicas - coordinator.emptyPipelines.length
      progress.membershipChanged(
        err.step,
        'left',
        gone.map((id) => ({ id })),
      )
      init.events({ kind: 'left', peers: gone, step: err.step, pipelines, why: 'lost' })
    }
  }
}

/**
 * Takes the pipelines whose peers `err` lost out of the job, and those of peers lost while the rest
 * regroup; the peers gone, or undefined when the failure is no lost peer's or no pipeline is left
 * whole (every one lost is added to `lost` either way).
 */
async function goOnWithout(
  coordinator: JobCoordinator,
  err: unknown,
  lost: Set<string>,
): Promise<string[] | undefined> {
  const gone: string[] = []
  for (let failure = err; ; ) {
    if (!(failure instanceof StepFailedError) || failure.lost.length === 0) return undefined
    for (const peer of failure.lost) lost.add(peer)
    gone.push(...failure.lost)
    try {
      return (await coordinator.leave(failure.lost)) ? gone : undefined
    } catch (next) {
      failure = next
    }
  }
}

/**
 * The steps from the coordinator's start to the job's end (or Ctrl-C), checkpoints and evaluations
 * between. Peers that have joined the membership (their links probed) fill the job's empty
 * pipelines where they fit, looked for at each checkpoint and, while a pipeline is empty, every
 * JOINER_LOOK_MS; at a checkpoint where they do not fit, it ends early so that the next plan gives
 * them work.
 */
async function driveSteps(
  init: TrainInit,
  coordinator: JobCoordinator,
  placement: JobPlacement,
  progress: JobHistory,
  model: TrainableModel,
  heldOut: Record<string, Tensor>[],
  members: Members,
): Promise<{ saved?: ModelCheckpoint; joined: string[]; left?: string[] }> {
  const { job } = init
  let saved: ModelCheckpoint | undefined
  let lookedAt = performance.now()
  while (coordinator.step < job.steps && !init.signal?.aborted) {
    const result = await coordinator.runStep()
    progress.stepped(result)
    init.events({
      kind: 'step',
      result,
      predictedSeconds: placement.plan.predicted.stepSeconds,
      tokens: progress.tokens,
    })
    const done = coordinator.step
    // peers that stop after the job's last step need nothing: the job ends
    if (result.leaving.length > 0 && done < job.steps) {
      const replan = await letGo(init, coordinator, placement, result.leaving, progress, members)
      if (replan !== undefined) return { ...replan, joined: [] }
    }
    const last = done === job.steps || init.signal?.aborted === true
    const checkpoint = done % job.checkpoint.every === 0 || last
    const evaluation = (job.eval.every > 0 && done % job.eval.every === 0) || last
    if (checkpoint || evaluation) {
      const stages = await coordinator.checkpoints()
      const merged = mergeStages(done, stages)
      if (checkpoint) {
        await writeJobCheckpoint(job.checkpoint.dir, job.name, done, stages, placement.stages)
        saved = merged
        progress.checkpointed(merged, job.checkpoint.dir)
        init.events({ kind: 'checkpoint', step: done, dir: job.checkpoint.dir })
      }
      if (evaluation) {
        const loss = await heldOutLoss(model, merged, heldOut)
        progress.evaluated(done, loss)
        init.events({ kind: 'eval', step: done, loss })
      }
    }
    if (last) continue
    // joiners are looked for at a checkpoint (a re-plan can start from it), and while a pipeline is
    // empty every JOINER_LOOK_MS too (filling it needs no checkpoint)
    const empty = coordinator.emptyPipelines.length > 0
    if (!checkpoint && !(empty && performance.now() - lookedAt >= JOINER_LOOK_MS)) continue
    lookedAt = performance.now()
    const fresh = await joiners(init.mesh, coordinator, members)
    if (fresh === undefined) continue
    if (!coordinator.fits(fresh.peers.length)) {
      if (checkpoint) return { saved, joined: fresh.peers.map((p) => p.peerId) }
      continue
    }
    // a joiner that fails (it refuses this coordinator, it dies) is lost: its pipeline leaves
    const admitted = (await coordinator.admit(fresh.peers, fresh.profile.links)).map((p) => p.peerId)
    const pipelines = (placement.stages[0]?.peers.length ?? 1) - coordinator.emptyPipelines.length
    progress.membershipChanged(
      done,
      'admitted',
      fresh.profile.peers.filter((p) => admitted.includes(p.id)),
    )
    init.events({ kind: 'admitted', peers: admitted, step: done, pipelines })
  }
  return { saved, joined: [] }
}

/**
 * Peers that said they are stopping, after the step they ended: with replicas their pipelines leave
 * and the job goes on (undefined); else a checkpoint is taken and written now, for a re-plan without
 * them that loses no step. Either way they are not taken back by this job.
 */
async function letGo(
  init: TrainInit,
  coordinator: JobCoordinator,
  placement: JobPlacement,
  peers: readonly string[],
  progress: JobHistory,
  members: Members,
): Promise<{ saved: ModelCheckpoint; left: string[] } | undefined> {
  const step = coordinator.step
  for (const peer of peers) members.lost.add(peer)
  progress.membershipChanged(
    step,
    'left',
    peers.map((id) => ({ id })),
  )
  if (await coordinator.leave(peers)) {
    const pipelines = (placement.stages[0]?.peers.length ?? 1) - coordinator.emptyPipelines.length
    init.events({ kind: 'left', peers, step, pipelines, why: 'stopping' })
    return undefined
  }
  const stages = await coordinator.checkpoints()
  const saved = mergeStages(step, stages)
  await writeJobCheckpoint(init.job.checkpoint.dir, init.job.name, step, stages, placement.stages)
  progress.checkpointed(saved, init.job.checkpoint.dir)
  init.events({ kind: 'checkpoint', step, dir: init.job.checkpoint.dir })
  init.events({ kind: 'left', peers, step, pipelines: 0, why: 'stopping' })
  return { saved, left: [...peers] }
}

/**
 * Peers the membership has now that the job does not run on (nor lost), once every link of theirs
 * is probed, with the profile they were found in; undefined when there are none.
 */
async function joiners(
  mesh: AtollMesh,
  coordinator: JobCoordinator,
  members: Members,
): Promise<{ peers: JobPeer[]; profile: MeshProfile } | undefined> {
  const running = new Set(coordinator.peers.map((p) => p.peerId))
  const profile = await gatherProfiles(mesh, members.membership, { exclude: members.lost }).catch(
    () => undefined,
  )
  if (profile === undefined) return undefined
  const fresh = profile.peers.filter((p) => !running.has(p.id))
  const unprobed = new Set(profile.unmeasured.flat())
  if (fresh.length === 0 || fresh.some((p) => unprobed.has(p.id))) return undefined
  return { peers: fresh.map((p) => ({ peerId: p.id, addresses: p.addresses })), profile }
}

/**
 * The plan for the membership: stages on peers (sched), the model cut accordingly (core). Replicas
 * (a job with `sync`) split every micro-batch R ways: the plan is costed on whole micro-batches
 * (sched splits a replicated stage's work over its replicas) and the model cut at a replica's share.
 */
function planJob(job: JobSpec, model: TrainableModel, batch: Record<string, Tensor>, profile: MeshProfile) {
  const placement = placeJob(model.graph, {
    loss: model.loss,
    bindings: microBatchBindings(model, batch, job.microBatches),
    microBatches: job.microBatches,
    peers: profile.peers,
    links: profile.links,
    placement: byPeerId(job.placement, profile),
    compression: job.compression,
    ...(job.sync === undefined ? {} : { sync: job.sync }),
  })
  const replicas = placement.stages[0].peers.length
  const rows = batch[model.dataInput].shape[0] ?? 0
  if (rows % (replicas * job.microBatches) !== 0)
    throw new JobStateError(
      `data.batchSize (${rows}) does not split into ${replicas} replicas × ${job.microBatches} micro-batches`,
    )
  const partition = partitionGraph(model.graph, {
    loss: model.loss,
    bindings: microBatchBindings(model, batch, replicas * job.microBatches),
    stages: placement.stages.map((s) => s.spec),
  })
  // stage-major: stage s's replicas, then stage s + 1's (one each without sync)
  const peers = placement.stages.flatMap((s) =>
    s.peers.map((id) => {
      const p = profile.peers.find((x) => x.id === id) as MeshProfile['peers'][number]
      return { peerId: p.id, addresses: p.addresses }
    }),
  )
  return { placement, partition, peers, replicas }
}

/** Puts a checkpoint's weights and running statistics into the model graph the stages are cut from. */
function restore(graph: Graph, checkpoint: ModelCheckpoint): void {
  for (const [name, t] of [...checkpoint.params, ...checkpoint.state]) {
    const current = graph.initializers.get(name)
    if (current === undefined || current.dtype !== t.dtype || current.shape.join() !== t.shape.join())
      throw new JobCheckpointError(
        `the checkpoint's '${name}' (${t.dtype}[${t.shape}]) is not the model's (${current ? `${current.dtype}[${current.shape}]` : 'absent'})`,
      )
    graph.initializers.set(name, t)
  }
  const missing = [...graph.parameters].filter((p) => !checkpoint.params.has(p))
  if (missing.length > 0)
    throw new JobCheckpointError(`the checkpoint has no '${missing.slice(0, 3).join("', '")}'`)
}

/** Explicit stages may name peers by name; sched places by id. */
function byPeerId(placement: JobSpec['placement'], profile: MeshProfile) {
  if (typeof placement === 'string') return placement
  return {
    stages: placement.stages.map((s) => {
      const peer = profile.peers.find((p) => p.id === s.peer || p.name === s.peer)
      if (peer === undefined)
        throw new JobStateError(
          `placement names peer '${s.peer}', which is not in the membership (${profile.peers.map((p) => p.name).join(', ')})`,
        )
      return { ...s, peer: peer.id }
    }),
  }
}

function microBatchBindings(model: TrainableModel, batch: Record<string, Tensor>, microBatches: number) {
  const first = Object.fromEntries(
    Object.entries(batch).map(([k, t]) => [k, microBatchView(t, 0, microBatches)]),
  )
  return bindSymbols(model.graph, first)
}

function tokensPerStep(batch: Record<string, Tensor>, model: TrainableModel): number {
  const input = batch[model.dataInput]
  return input.dtype === 'int64' ? input.shape.reduce((a, b) => a * b, 1) : (input.shape[0] ?? 0)
}

async function heldOutBatches(job: JobSpec, model: TrainableModel) {
  const heldOut = await openDataSource(datasetName(job.data), model, {
    batchSize: job.data.batchSize,
    split: 'eval',
  })
  return Array.from({ length: Math.min(job.eval.batches, heldOut.batchesPerEpoch) }, (_, k) =>
    heldOut.ordered(k),
  )
}

/** The held-out loss of a checkpoint's parameters (and running statistics), computed here. */
async function heldOutLoss(
  model: TrainableModel,
  checkpoint: ModelCheckpoint,
  batches: Record<string, Tensor>[],
) {
  const params = parametersOf(model.graph)
  assignParameters(params, checkpoint.params, { source: 'the stages checkpoints' })
  const state = modelState(model.graph)
  assignParameters([], checkpoint.state, { source: 'the stages checkpoints', state, allowExtra: true })
  const backend = await nodeBackends().resolve('cpu')
  return (await evaluate(model, params, backend, batches)).loss
}
