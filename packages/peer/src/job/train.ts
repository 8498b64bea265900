/**
 * `atoll train JOB.yaml` behind the CLI: learn the membership from a daemon (capability reports and
 * the links its peers probed), plan with sched (OP-Fence by default), cut the model with core's
 * partition, hand each worker its stage and drive the steps; every `checkpoint.every` steps and at the
 * end, the stages' checkpoints come back and are written (one file per stage and a manifest, each
 * written atomically, the manifest last), and the held-out loss is measured on them here.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { type Partition, partitionGraph } from '@atoll/core'
import type { AtollMesh } from '@atoll/net'
import {
  assignParameters,
  bindSymbols,
  checkpointParts,
  evaluate,
  microBatchView,
  modelState,
  nodeBackends,
  openDataSource,
  parametersOf,
  type TrainableModel,
  writeAtomically,
} from '@atoll/runtime'
import { formatPlan, type JobPlacement, placeJob } from '@atoll/sched'
import { blobHashOf } from './stage-blob.ts'
import { JobCoordinator, type StepResult } from './coordinator.ts'
import { JobStateError } from './errors.ts'
import { gatherProfiles, type MeshProfile } from './profiles.ts'
import type { EdgeCodec } from './rpc.ts'
import { datasetName, singlePeerRun } from './single-peer.ts'
import type { JobSpec } from './spec.ts'

export type TrainEvent =
  | { kind: 'links'; measured: number; total: number }
  | { kind: 'plan'; text: string; profile: MeshProfile; placement: JobPlacement }
  | { kind: 'step'; result: StepResult; predictedSeconds: number; tokens: number }
  | { kind: 'checkpoint'; step: number; dir: string }
  | { kind: 'eval'; step: number; loss: number }

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
}

export interface TrainSummary {
  job: string
  steps: number
  loss_first: number
  loss_last: number
  losses: number[]
  eval: { step: number; loss: number }[]
  plan: {
    algorithm: string
    stages: { peer: string; name: string; layers: string[] }[]
    boundaries: JobPlacement['boundaries']
    predicted_step_seconds: number
  }
  measured_step_seconds: number
  /** payload bytes per link (`from→to` by peer name), all steps */
  link_bytes: Record<string, number>
  checkpoint?: string
}

export async function trainJob(init: TrainInit): Promise<TrainSummary> {
  const { job, mesh } = init
  const run = await singlePeerRun(job)
  const profile = await gatherProfiles(mesh, init.membership, {
    waitMs: init.linkWaitMs ?? 120_000,
    progress: (measured, total) => init.events({ kind: 'links', measured, total }),
  })
  const bindings = microBatchBindings(run.model, run.data.shuffled(0), job.microBatches)
  const placement = placeJob(run.model.graph, {
    loss: run.model.loss,
    bindings,
    microBatches: job.microBatches,
    peers: profile.peers,
    links: profile.links,
    placement: byPeerId(job.placement, profile),
    compression: job.compression,
  })
  init.events({ kind: 'plan', text: formatPlan(placement.plan), profile, placement })
  const partition = partitionGraph(run.model.graph, {
    loss: run.model.loss,
    bindings,
    stages: placement.stages.map((s) => s.spec),
  })
  const peerOf = (id: string) => profile.peers.find((p) => p.id === id) as MeshProfile['peers'][number]
  const coordinator = new JobCoordinator(mesh, {
    id: job.name,
    model: run.model,
    partition,
    peers: placement.stages.map((s) => ({ peerId: s.peer, addresses: peerOf(s.peer).addresses })),
    codec: (edge) => codecOf(placement, edge),
    microBatches: job.microBatches,
    optimizer: job.optimizer,
    lrSchedule: job.schedule,
    clipNorm: run.clipNorm,
    steps: job.steps,
    data: { dataset: datasetName(job.data), batchSize: job.data.batchSize, seed: job.data.seed },
  })
  await coordinator.assign()
  const heldOut = await heldOutBatches(job, run.model)
  const losses: number[] = []
  const evals: TrainSummary['eval'] = []
  const linkBytes = new Map<string, number>()
  let seconds = 0
  let saved: string | undefined
  const tokens = tokensPerStep(run.data.shuffled(0), run.model)
  try {
    while (coordinator.step < job.steps && !init.signal?.aborted) {
      const result = await coordinator.runStep()
      losses.push(result.loss)
      seconds += result.seconds
      for (const l of result.links) {
        const key = `${peerOf(l.from).name}→${peerOf(l.to).name}`
        linkBytes.set(key, (linkBytes.get(key) ?? 0) + l.bytes)
      }
      init.events({ kind: 'step', result, predictedSeconds: placement.plan.predicted.stepSeconds, tokens })
      const done = coordinator.step
      const checkpoint = done % job.checkpoint.every === 0 || done === job.steps
      const evaluation = job.eval.every > 0 && done % job.eval.every === 0
      if (checkpoint || evaluation || init.signal?.aborted) {
        const stages = await coordinator.checkpoints()
        if (checkpoint || init.signal?.aborted) {
          saved = await writeJobCheckpoint(job, done, stages, placement)
          init.events({ kind: 'checkpoint', step: done, dir: saved })
        }
        const loss = await heldOutLoss(run.model, stages, heldOut)
        evals.push({ step: done, loss })
        init.events({ kind: 'eval', step: done, loss })
      }
    }
  } finally {
    await coordinator.stop()
  }
  return {
    job: job.name,
    steps: losses.length,
    loss_first: losses[0] ?? Number.NaN,
    loss_last: losses.at(-1) ?? Number.NaN,
    losses,
    eval: evals,
    plan: {
      algorithm: placement.plan.algorithm,
      stages: placement.stages.map((s, k) => ({
        peer: s.peer,
        name: peerOf(s.peer).name,
        layers: placement.plan.stages[k]?.layers ?? [],
      })),
      boundaries: placement.boundaries,
      predicted_step_seconds: placement.plan.predicted.stepSeconds,
    },
    measured_step_seconds: losses.length > 0 ? seconds / losses.length : Number.NaN,
    link_bytes: Object.fromEntries(linkBytes),
    ...(saved ? { checkpoint: saved } : {}),
  }
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

/** A boundary's codec from the plan: the one between its two stages, dense where the plan has none. */
function codecOf(
  placement: JobPlacement,
  edge: Partition['edges'][number],
): { codec: EdgeCodec; keep: number } {
  const b = placement.boundaries.find((x) => x.from === edge.from && x.to === edge.to)
  if (b === undefined || b.codec === 'dense') return { codec: 'dense', keep: 1 }
  if (b.codec === 'topk-fp16') return { codec: 'topk-fp16', keep: b.keepRatio }
  if (b.codec === 'fp16') return { codec: 'fp16', keep: 1 }
  throw new JobStateError(
    `codec '${b.codec}' is not one a job's boundaries carry yet (dense, fp16, topk-fp16)`,
  )
}

function microBatchBindings(
  model: TrainableModel,
  batch: Record<string, import('@atoll/core').Tensor>,
  microBatches: number,
) {
  const first = Object.fromEntries(
    Object.entries(batch).map(([k, t]) => [k, microBatchView(t, 0, microBatches)]),
  )
  return bindSymbols(model.graph, first)
}

function tokensPerStep(batch: Record<string, import('@atoll/core').Tensor>, model: TrainableModel): number {
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

/** The held-out loss of the stages' parameters (and running statistics), computed here. */
async function heldOutLoss(
  model: TrainableModel,
  stages: Uint8Array[],
  batches: Record<string, import('@atoll/core').Tensor>[],
) {
  const params = parametersOf(model.graph)
  const state = modelState(model.graph)
  const values = new Map<string, import('@atoll/core').Tensor>()
  const stats = new Map<string, import('@atoll/core').Tensor>()
  for (const bytes of stages) {
    const parts = checkpointParts(bytes)
    for (const [n, t] of parts.params) values.set(n, t)
    for (const [n, t] of parts.state) stats.set(n, t)
  }
  assignParameters(params, values, { source: 'the stages checkpoints' })
  assignParameters([], stats, { source: 'the stages checkpoints', state, allowExtra: true })
  const backend = await nodeBackends().resolve('cpu')
  return (await evaluate(model, params, backend, batches)).loss
}

/**
 * The job's checkpoint at `step`: one safetensors file per stage, then `latest.json` naming them with
 * their sizes and hashes and the plan they were cut by; each file written atomically, the manifest
 * last, so a crash leaves the previous complete checkpoint in force.
 */
async function writeJobCheckpoint(job: JobSpec, step: number, stages: Uint8Array[], placement: JobPlacement) {
  const dir = job.checkpoint.dir
  const folder = `step-${String(step).padStart(8, '0')}`
  await mkdir(join(dir, folder), { recursive: true })
  const files = []
  for (const [k, bytes] of stages.entries()) {
    const file = join(folder, `stage-${k}.safetensors`)
    await writeAtomically(join(dir, file), bytes)
    files.push({ file, bytes: bytes.byteLength, sha256: blobHashOf(bytes), peer: placement.stages[k].peer })
  }
  const manifest = {
    version: 1,
    job: job.name,
    step,
    stages: files,
    specs: placement.stages.map((s) => s.spec),
  }
  await writeAtomically(
    join(dir, 'latest.json'),
    new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`),
  )
  return dir
}
