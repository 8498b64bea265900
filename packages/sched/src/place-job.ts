/**
 * The front door a job coordinator plans through: a core graph, the peers' profiles and the job's
 * placement and compression in; the sched Plan (print it with formatPlan; its predicted step time),
 * the peers and one core StageSpec per stage (for partitionGraph) and the codec of every boundary
 * out. One peer per stage, unless the job synchronises replicas (`sync`): then OP-Fence replicates
 * each cluster's segment on the cluster's peers, and every stage has as many replicas.
 */
import { decomposeTrainingOps, type Graph, type StageSpec } from '@atoll/core'
import * as z from 'zod/mini'
import { planEven, planRandom } from './baselines.ts'
import { type Compression, compressFenceEdges, compressionSchema } from './compression.ts'
import { InsufficientMemoryError, InvalidFieldError, StageOrderError } from './errors.ts'
import { hostsOf, predictStep } from './estimator.ts'
import { type PlacedStage, planExplicit } from './explicit.ts'
import { type FenceOptions, planFence } from './fence.ts'
import { opCostsOfGraph } from './model.ts'
import { bytesText } from './summary.ts'
import type { EdgeCodec, LinkProfile, PeerProfile, Plan, SyncSpec } from './types.ts'
import { checkSync, type PlanInput, parseField, syncSpec } from './validate.ts'

/** Where a job's stages go: OP-Fence, a baseline, or stages placed by hand. */
export type Placement = 'fence' | 'even' | 'random' | { stages: PlacedStage[] }

export interface JobPlacementInput {
  /** the loss value: the last stage must compute it */
  loss: string
  /** sizes of the graph's symbolic dimensions for one micro-batch, e.g. `{ batch: 4 }` */
  bindings: Record<string, number>
  microBatches: number
  peers: PeerProfile[]
  links: LinkProfile[]
  placement: Placement
  /** what crosses the fences: AdaTopK's ratios, nothing compressed, or one fixed codec */
  compression: Compression
  /** seed of the `random` placement (default 1) */
  seed?: number
  /** cost the graph as partitionGraph cuts it, training BatchNorm decomposed (default true, as there) */
  decompose?: boolean
  /** fraction of a peer's calibrated FLOP/s each op type reaches (see EstimatorOptions) */
  efficiency?: Record<string, number>
  /**
   * how replicas of a stage synchronise, for a job that runs replicas: OP-Fence (the only placement
   * that makes them) replicates each cluster's segment on its peers (default: none, one peer a stage)
   */
  sync?: SyncSpec
}

/** What stage `from` sends to stage `to`, activations forward and their gradients back. */
export interface BoundaryCodec {
  from: number
  to: number
  codec: EdgeCodec
  /** fraction of the elements kept: below 1 for top-k only */
  keepRatio: number
}

export interface JobPlacement {
  plan: Plan
  /**
   * per stage, its peer (the first replica) and its nodes: `partitionGraph(graph, { loss, stages:
   * specs, bindings })`; `peers`: every replica, as many for every stage
   */
  stages: { peer: string; peers: string[]; spec: StageSpec }[]
  boundaries: BoundaryCodec[]
}

const name = z.string().check(z.minLength(1))

export const placementSchema: z.ZodMiniType<Placement> = z.union([
  z.enum(['fence', 'even', 'random']),
  z.object({
    stages: z
      .array(z.object({ peer: name, scopes: z.array(name).check(z.minLength(1)) }))
      .check(z.minLength(1)),
  }),
])

const jobSchema = z.object({
  loss: name,
  bindings: z.record(z.string(), z.int().check(z.gte(1))),
  microBatches: z.int().check(z.gte(1)),
  placement: placementSchema,
  compression: compressionSchema,
  seed: z.optional(z.int()),
  decompose: z.optional(z.boolean()),
  efficiency: z.optional(z.record(z.string(), z.number().check(z.positive()))),
  // checked again, with its type, by checkSync where it is used
  sync: z.optional(syncSpec),
})

/**
 * Plans a job: costs every node of `graph` (opCostsOfGraph, as partitionGraph will see it), places
 * its stages, compresses its fence edges, and refuses a plan whose stage does not fit its peer's
 * memory (InsufficientMemoryError) or whose loss is not computed by the last stage.
 */
export function placeJob(graph: Graph, input: JobPlacementInput): JobPlacement {
  const job = parseField(jobSchema, input, '')
  const costed = job.decompose === false ? graph : decomposeTrainingOps(graph, job.bindings, { loss: false })
  const lossNode = costed.nodes.find((n) => n.outputs.includes(job.loss))
  if (lossNode === undefined)
    throw new InvalidFieldError('loss', 'a value a node of the graph computes', job.loss)
  const planInput = {
    peers: input.peers,
    links: input.links,
    ops: opCostsOfGraph(costed, job.bindings),
    microBatches: job.microBatches,
  }
  const plan = planOf(costed, planInput, job, input.sync)
  refuseUnfit(plan, input.peers)
  checkLossLast(plan, lossNode.name, job.loss)
  checkReplicas(plan)
  return {
    plan,
    stages: plan.stages.map((s) => ({ peer: s.peers[0], peers: [...s.peers], spec: { nodes: s.ops } })),
    boundaries: plan.edges.map(({ from, to, codec, keepRatio }) => ({ from, to, codec, keepRatio })),
  }
}

function planOf(graph: Graph, input: PlanInput, job: z.infer<typeof jobSchema>, sync?: SyncSpec): Plan {
  const { placement, compression } = job
  const estimator = { efficiency: job.efficiency }
  if (placement === 'fence') {
    const replicas = sync === undefined ? { replicate: false } : { replicate: true, sync: checkSync(sync) }
    return planFence(input, { ...estimator, ...fenceCompression(compression), ...replicas })
  }
  if (sync !== undefined)
    throw new InvalidFieldError('placement', "'fence' (the placement that replicates stages)", placement)
  const plan =
    placement === 'even'
      ? planEven(input, estimator)
      : placement === 'random'
        ? planRandom(input, { ...estimator, seed: job.seed })
        : planExplicit(graph, input, placement.stages, estimator)
  const edges = compressFenceEdges(plan.stages, plan.edges, compression)
  const hosts = hostsOf(input.peers)
  return {
    ...plan,
    edges,
    predicted: predictStep(plan.stages, edges, plan.microBatches, plan.tied, undefined, hosts),
  }
}

function fenceCompression(compression: Compression): FenceOptions {
  if (compression === 'none') return { adaTopK: false }
  if (compression === 'adatopk') return { adaTopK: true }
  return { fenceCodec: compression }
}

/** A stage's replicas run beside the same replica of its neighbours: every stage needs as many. */
function checkReplicas(plan: Plan): void {
  const counts = plan.stages.map((s) => s.peers.length)
  if (counts.every((n) => n === counts[0])) return
  throw new InvalidFieldError(
    'sync',
    'clusters with as many peers each (every stage as many replicas)',
    `${counts.join(', ')} replicas in stages 0…${counts.length - 1}`,
  )
}

function refuseUnfit(plan: Plan, peers: readonly PeerProfile[]): void {
  for (const stage of plan.stages) {
    if (stage.fitsMemory) continue
    const need = stage.memoryBytesPerPeer
    const peer = peers.find((p) => stage.peers.includes(p.id) && p.memoryBytes < need)!
    throw new InsufficientMemoryError(
      `stage ${stage.index} (${stage.layers.join(', ')}) needs ${bytesText(need)} on its peer (parameters, gradients, optimizer state and stashed activations), but peer '${peer.id}' has ${bytesText(peer.memoryBytes)}`,
    )
  }
}

function checkLossLast(plan: Plan, lossNode: string, loss: string): void {
  const stage = plan.stages.findIndex((s) => s.ops.includes(lossNode))
  const last = plan.stages.length - 1
  if (stage !== last)
    throw new StageOrderError(
      `stage ${stage} computes the loss '${loss}', but the last stage (${last}) must: backward starts there`,
    )
}
