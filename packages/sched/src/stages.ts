import type { LinkMatrix } from './cluster.ts'
import { BACKWARD_FLOPS_FACTOR } from './constants.ts'
import { stageSyncPlan } from './dreamddp/stage-sync.ts'
import {
  computeSeconds,
  DEFAULT_OVERHEADS,
  type StepOverheads,
  stageMemoryBytes,
  syncSecondsPerStep,
  transferSeconds,
} from './estimator.ts'
import type { LinearGraph } from './graph.ts'
import type { BoundaryEdge, PeerProfile, Stage, SyncSpec, TiedExchange } from './types.ts'

/** A stage before costing: ops [start, end) of the linear order on a replica group. */
export interface StageSpec {
  start: number
  end: number
  peers: string[]
  cluster: number
}

/** Everything the costing of stages and edges needs, built once per plan. */
export interface Context {
  graph: LinearGraph
  links: LinkMatrix
  peers: Map<string, PeerProfile>
  position: Map<string, number>
  microBatches: number
  sync: SyncSpec
  /** the runtime's fixed costs: a stage's slot is its compute plus the per-micro-batch overhead */
  overheads: StepOverheads
}

export function context(
  graph: LinearGraph,
  links: LinkMatrix,
  peers: readonly PeerProfile[],
  microBatches: number,
  sync: SyncSpec = { algorithm: 'ssgd', period: 1 },
  overheads: StepOverheads = DEFAULT_OVERHEADS,
): Context {
  return {
    sync,
    overheads,
    graph,
    links,
    peers: new Map(peers.map((p) => [p.id, p])),
    position: new Map(links.ids.map((id, i) => [id, i])),
    microBatches,
  }
}

/**
 * Costs a chain of stage specs: compute, memory and gradient sync per stage, dense edges between,
 * and the gradient exchange of every parameter that several stages read.
 */
export function costStages(
  ctx: Context,
  specs: readonly StageSpec[],
): { stages: Stage[]; edges: BoundaryEdge[]; tied: TiedExchange[] } {
  const S = specs.length
  const g = ctx.graph
  const stages = specs.map((spec, index): Stage => {
    const flops = spec.peers.map((id) => ctx.peers.get(id)!.flops)
    const paramBytes = g.params[spec.end] - g.params[spec.start]
    const activations = g.outputs[spec.end] - g.outputs[spec.start]
    const inFlight = Math.min(ctx.microBatches, S - index)
    const memory = stageMemoryBytes(paramBytes, activations, spec.peers.length, inFlight)
    const compute = computeSeconds(g.work[spec.end] - g.work[spec.start], flops)
    // DreamDDP overlaps with the backward of the step's last micro-batch, when gradients are final
    const backward = (compute * BACKWARD_FLOPS_FACTOR) / (1 + BACKWARD_FLOPS_FACTOR)
    const link = groupLink(ctx, spec.peers)
    const dream =
      ctx.sync.algorithm === 'dreamddp'
        ? stageSyncPlan({ graph: g, ...spec, replicaFlops: flops, link, period: ctx.sync.period })
        : undefined
    return {
      index,
      cluster: spec.cluster,
      ops: g.ops.slice(spec.start, spec.end).map((op) => op.id),
      layers: [...new Set(g.layers.slice(spec.start, spec.end))],
      peers: spec.peers,
      computeSeconds: compute,
      paramBytes,
      memoryBytesPerPeer: memory,
      fitsMemory: spec.peers.every((id) => ctx.peers.get(id)!.memoryBytes >= memory),
      syncSeconds:
        dream === undefined
          ? syncSecondsPerStep(ctx.sync, paramBytes, spec.peers.length, link, backward)
          : dream.waitPerPeriod / ctx.sync.period,
      ...(dream && { syncSchedule: dream.schedule }),
    }
  })
  const edges = specs.slice(1).map((spec, k): BoundaryEdge => {
    const link = bestLink(ctx, specs[k].peers, spec.peers)
    const bytes = g.cutBytes[spec.start]
    return {
      from: k,
      to: k + 1,
      bytes,
      crossesFence: specs[k].cluster !== spec.cluster,
      bandwidthBps: link.bandwidthBps,
      rttSeconds: link.rttSeconds,
      codec: 'dense',
      keepRatio: 1,
      seconds: transferSeconds(bytes, link.bandwidthBps, link.rttSeconds),
    }
  })
  return { stages, edges, tied: tiedExchanges(ctx, specs) }
}

/** Parameters read by ops of several stages, each exchanged dense over the slowest holders' link. */
function tiedExchanges(ctx: Context, specs: readonly StageSpec[]): TiedExchange[] {
  const holders = new Map<string, { stages: Set<number>; bytes: number }>()
  specs.forEach((spec, s) => {
    for (const op of ctx.graph.ops.slice(spec.start, spec.end))
      for (const p of op.params ?? []) {
        const h = holders.get(p.name) ?? { stages: new Set<number>(), bytes: p.bytes }
        h.stages.add(s)
        holders.set(p.name, h)
      }
  })
  return [...holders]
    .filter(([, h]) => h.stages.size > 1)
    .map(([param, h]) => {
      const stages = [...h.stages].sort((a, b) => a - b)
      let seconds = 0
      for (const a of stages)
        for (const b of stages) {
          if (a >= b) continue
          const link = bestLink(ctx, specs[a].peers, specs[b].peers)
          seconds = Math.max(seconds, transferSeconds(h.bytes, link.bandwidthBps, link.rttSeconds))
        }
      return { param, stages, bytes: h.bytes, seconds }
    })
}

/** The slowest link and longest RTT inside a replica group: what its ring all-reduce runs at. */
export function groupLink(
  ctx: Context,
  peers: readonly string[],
): { bandwidthBps: number; rttSeconds: number } {
  const n = ctx.links.ids.length
  let bandwidthBps = Infinity
  let rttSeconds = 0
  const idx = peers.map((id) => ctx.position.get(id)!)
  // a ring only uses neighbours: consecutive peers of the group (and the wrap-around); a pair
  // without a measured link is relayed by the others, so it does not count as a zero
  for (let k = 0; k < idx.length && idx.length > 1; k++) {
    const i = idx[k]
    const j = idx[(k + 1) % idx.length]
    if (!(ctx.links.bw[i * n + j] > 0)) continue
    bandwidthBps = Math.min(bandwidthBps, ctx.links.bw[i * n + j])
    rttSeconds = Math.max(rttSeconds, ctx.links.rtt[i * n + j])
  }
  if (bandwidthBps === Infinity && idx.length > 1) return slowestLinkOf(ctx, idx)
  return { bandwidthBps, rttSeconds }
}

/** The slowest measured link among a group's peers (a ring whose neighbours have no direct links). */
function slowestLinkOf(ctx: Context, idx: readonly number[]): { bandwidthBps: number; rttSeconds: number } {
  const n = ctx.links.ids.length
  let bandwidthBps = Infinity
  let rttSeconds = 0
  for (const i of idx) {
    for (const j of idx) {
      const w = ctx.links.bw[i * n + j]
      if (i === j || !(w > 0)) continue
      bandwidthBps = Math.min(bandwidthBps, w)
      rttSeconds = Math.max(rttSeconds, ctx.links.rtt[i * n + j])
    }
  }
  return { bandwidthBps, rttSeconds }
}

/** The widest link between two replica groups: the pair that carries the boundary. */
function bestLink(
  ctx: Context,
  a: readonly string[],
  b: readonly string[],
): { bandwidthBps: number; rttSeconds: number } {
  const n = ctx.links.ids.length
  let best = { bandwidthBps: 0, rttSeconds: Infinity }
  for (const pa of a) {
    const i = ctx.position.get(pa)!
    for (const pb of b) {
      const j = ctx.position.get(pb)!
      const w = i === j ? Infinity : ctx.links.bw[i * n + j]
      if (w > best.bandwidthBps)
        best = { bandwidthBps: w, rttSeconds: i === j ? 0 : ctx.links.rtt[i * n + j] }
    }
  }
  return best
}
