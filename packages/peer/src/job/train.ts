/**
 * `atoll train JOB.yaml` behind the CLI: learn the membership from a daemon (capability reports and
 * the links its peers probed), plan with sched (OP-Fence by default), cut the model with core's
 * partition, hand each worker its stage and drive the steps; every `checkpoint.every` steps, at the
 * end and on Ctrl-C the stages' checkpoints come back and are written (job-checkpoint.ts), and the
 * held-out loss is measured on them here. A peer lost mid-step (it failed the step or missed a
 * heartbeat) makes the coordinator re-plan over the peers left and go on from the last complete
 * checkpoint: every stage starts again from that step's weights and optimizer state, so no stage
 * keeps an update another lost.
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
import { JobCoordinator, type StepResult } from './coordinator.ts'
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
      const ended = await driveSteps(init, coordinator, placed.placement, progress, model, heldOut, {
        membership,
        lost,
      })
      if (ended.joined.length === 0) return progress.summary(job)
      // peers joined: the next plan gives them work, from the checkpoint just written
      restart = ended.saved
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

/**
 * The steps from the coordinator's start to the job's end (or Ctrl-C), checkpoints and evaluations
 * between. At a checkpoint where peers have joined the membership (and their links are probed), it
 * ends early so that the next plan gives them work.
 */
async function driveSteps(
  init: TrainInit,
  coordinator: JobCoordinator,
  placement: JobPlacement,
  progress: JobHistory,
  model: TrainableModel,
  heldOut: Record<string, Tensor>[],
  members: { membership: readonly string[]; lost: ReadonlySet<string> },
): Promise<{ saved?: ModelCheckpoint; joined: string[] }> {
  const { job } = init
  let saved: ModelCheckpoint | undefined
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
    const last = done === job.steps || init.signal?.aborted === true
    const checkpoint = done % job.checkpoint.every === 0 || last
    const evaluation = (job.eval.every > 0 && done % job.eval.every === 0) || last
    if (!checkpoint && !evaluation) continue
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
    if (checkpoint && !last) {
      const joined = await joiners(init.mesh, placement, members)
      if (joined.length > 0) return { saved, joined }
    }
  }
  return { saved, joined: [] }
}

/** Peers the membership has now that the plan has not (nor lost), once every link of theirs is probed. */
async function joiners(
  mesh: AtollMesh,
  placement: JobPlacement,
  members: { membership: readonly string[]; lost: ReadonlySet<string> },
): Promise<string[]> {
  const placed = new Set(placement.stages.map((s) => s.peer))
  const profile = await gatherProfiles(mesh, members.membership, { exclude: members.lost }).catch(
    () => undefined,
  )
  if (profile === undefined) return []
  const fresh = profile.peers.filter((p) => !placed.has(p.id)).map((p) => p.id)
  const unprobed = new Set(profile.unmeasured.flat())
  return fresh.some((p) => unprobed.has(p)) ? [] : fresh
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
