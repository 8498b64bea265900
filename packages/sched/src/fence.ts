import { chainPeers, orderClusters } from './chain.ts'
import { type ClusterOptions, clusterPeers, type FenceLink, linkMatrix } from './cluster.ts'
import {
  type Compression,
  compressFenceEdges,
  compressionSchema,
  type FenceCodec,
  fenceWireRatio,
} from './compression.ts'
import { OPTIMIZER_STATE_FACTOR } from './constants.ts'
import { InfeasiblePlanError } from './errors.ts'
import { bytesText } from './summary.ts'
import { type EstimatorOptions, hostsOf, predictStep } from './estimator.ts'
import { linearize } from './graph.ts'
import { type Group, type Segment, segmentDp, segmentMemory } from './segment-dp.ts'
import { type Context, context, costStages, type StageSpec } from './stages.ts'
import type { FenceCluster, Plan, SyncSpec } from './types.ts'
import { checkSync, type PlanInput, parseField, parsePlanInput } from './validate.ts'

export interface FenceOptions extends ClusterOptions, EstimatorOptions {
  /** compress fence edges that would be the bottleneck (default true) */
  adaTopK?: boolean
  /** one codec on every fence edge instead of AdaTopK's ratios (default: none, adaTopK decides) */
  fenceCodec?: FenceCodec
  /**
   * step (4): replicate a cluster's segment on its peers (default true), splitting it only where a
   * replica would not fit; false gives every peer a contiguous stage of its own and every stage one
   * peer, for jobs that run no data-parallel replicas
   */
  replicate?: boolean
  /** how stage replicas synchronise (default S-SGD, every step) */
  sync?: SyncSpec
}

/**
 * OP-Fence: (1) cluster peers at the largest drop in bandwidth; (2) chain the clusters so that the
 * slowest fence is as fast as possible; (3) cut the linearised DAG into one contiguous segment per
 * cluster by dynamic programming minimising the slowest segment (compute on the cluster + transfer
 * over its fence), under the cluster's memory; (4) inside a cluster, replicate the segment on every
 * peer, or split it into the fewest sub-stages whose replicas fit in memory; then AdaTopK.
 * With `replicate: false` every cluster gets a segment, and (4) splits it into one contiguous
 * sub-stage per peer, balanced by compute under each peer's memory, the peers in chainPeers' order
 * (entered from the previous fence, left towards the next), so each fence is crossed once; where
 * the model has too little work for every peer, some stay idle.
 */
export function planFence(input: PlanInput, options: FenceOptions = {}): Plan {
  const { peers, links: peerLinks, ops, microBatches } = parsePlanInput(input)
  const m = linkMatrix(peers, peerLinks)
  const found = clusterPeers(m, options)
  const { order, links } = orderClusters(found, m)
  const clusters = order.map((i) => found[i])
  const graph = linearize(ops, options)
  const sync = checkSync(options.sync)
  const ctx = context(graph, m, peers, microBatches, sync, options.overheads)
  const compression = compressionOf(options)
  const replicate = options.replicate !== false
  const groups = clusterGroups(clusters, links, replicate)
  const span = { start: 0, end: graph.ops.length, stages: replicate ? clusters.length : peers.length }
  // The DP minimises the slowest slot with fences dense; with compression it also tries them at
  // the codec's ratio (compression can make a cut worth it that dense transfer would not), and,
  // with replicas, it tries adding each segment's sync spread over the pipeline's slots (the step
  // pays the slowest sync once, so fewer parameters per cluster can beat a faster slot). The
  // estimator picks.
  const choices = (compression === 'none' ? [false] : [false, true]).flatMap((compressed) =>
    (replicate ? [false, true] : [false]).map((syncAware) => ({ compressed, syncAware })),
  )
  const variants = choices.map((choice) => {
    const fenceRatio = choice.compressed ? fenceWireRatio(compression) : 1
    const dp = { fenceRatio, syncAware: choice.syncAware, everyGroup: !replicate }
    // without replicas every peer gets a stage when the model has work enough for each; else some
    // stay idle (a stage that computes nothing would only pass tensors along)
    const segments =
      segmentDp(ctx, groups, dp, span) ??
      (replicate ? undefined : segmentDp(ctx, groups, { ...dp, everyGroup: false }, span))
    if (segments === undefined) throw notFitting(ctx, clusters, replicate)
    const specs = replicate
      ? segments.flatMap((seg) => splitInside(ctx, clusters[seg.cluster], seg))
      : splitPerPeer(ctx, clusters, segments)
    const costed = costStages(ctx, specs)
    const edges = compressFenceEdges(costed.stages, costed.edges, compression, options.overheads)
    const predicted = predictStep(
      costed.stages,
      edges,
      microBatches,
      costed.tied,
      options.overheads,
      hostsOf(peers),
    )
    return { ...costed, edges, predicted }
  })
  const best = variants.reduce((a, b) => (b.predicted.stepSeconds < a.predicted.stepSeconds ? b : a))
  return {
    algorithm: 'op-fence',
    microBatches,
    clusters,
    stages: best.stages,
    edges: best.edges,
    sync,
    tied: best.tied,
    predicted: best.predicted,
  }
}

function compressionOf(options: FenceOptions): Compression {
  if (options.fenceCodec !== undefined) return parseField(compressionSchema, options.fenceCodec, 'fenceCodec')
  return options.adaTopK === false ? 'none' : 'adatopk'
}

/** The chain's clusters as the DP's groups; without replicas, a cluster's stages are its peers. */
function clusterGroups(
  clusters: readonly FenceCluster[],
  links: readonly FenceLink[],
  replicate: boolean,
): Group[] {
  let firstStage = 0
  return clusters.map((c, k) => {
    const group = { peers: c.peers, cluster: k, out: links[k], fence: true, firstStage }
    firstStage += replicate ? 1 : c.peers.length
    return group
  })
}

/**
 * Step (4) without replicas: each cluster's segment cut into one stage per peer, in chainPeers'
 * order, by the same DP over single peers: the slowest peer's compute plus its send to the next
 * peer of the cluster is minimised, under each peer's memory. The fence's transfer is left out
 * here (the segment's cut already paid for it), so the peer facing the fence is not starved of work.
 */
function splitPerPeer(
  ctx: Context,
  clusters: readonly FenceCluster[],
  segments: readonly Segment[],
): StageSpec[] {
  const chain = chainPeers(ctx.links, clusters)
  const n = ctx.links.ids.length
  return segments.flatMap((seg) => {
    const inside = clusters[seg.cluster].peers
    const groups = chain.flatMap((id, firstStage): Group[] => {
      if (!inside.includes(id)) return []
      const next = chain[firstStage + 1]
      const [i, j] = [ctx.position.get(id)!, ctx.position.get(next)!]
      const out = inside.includes(next)
        ? { bandwidthBps: ctx.links.bw[i * n + j], rttSeconds: ctx.links.rtt[i * n + j] }
        : undefined
      return [{ peers: [id], cluster: seg.cluster, out, fence: false, firstStage }]
    })
    const span = { start: seg.start, end: seg.end, stages: chain.length }
    // every peer a stage when the segment has work enough for each; else some peers of the cluster
    // stay idle rather than hold a stage that computes nothing
    const split =
      segmentDp(ctx, groups, { fenceRatio: 1, syncAware: false, everyGroup: true }, span) ??
      segmentDp(ctx, groups, { fenceRatio: 1, syncAware: false, everyGroup: false }, span)
    if (split === undefined)
      throw new InfeasiblePlanError(
        `ops ${seg.start}…${seg.end - 1} fit no split over the peers of the cluster of '${inside[0]}' (their memory)`,
      )
    return split.map((sub) => ({
      start: sub.start,
      end: sub.end,
      peers: groups[sub.group].peers,
      cluster: seg.cluster,
    }))
  })
}

/**
 * Why no segment DP fits: the model's parameters with their gradients and optimizer state (without
 * the activations), beside what each cluster's peers have.
 */
function notFitting(
  ctx: Context,
  clusters: readonly FenceCluster[],
  replicate: boolean,
): InfeasiblePlanError {
  const need = ctx.graph.params[ctx.graph.ops.length] * (2 + OPTIMIZER_STATE_FACTOR)
  const have = clusters.map((c) => {
    const memory = c.peers.map((id) => ctx.peers.get(id)?.memoryBytes ?? 0)
    // a replicated segment must fit each peer; a split one may spread over them all
    const bytes = replicate ? Math.min(...memory) : memory.reduce((a, b) => a + b, 0)
    return `'${c.peers[0]}'${c.peers.length > 1 ? ` and ${c.peers.length - 1} more` : ''}: ${bytesText(bytes)}`
  })
  return new InfeasiblePlanError(
    `the model does not fit in the memory of the ${clusters.length} cluster(s)${replicate ? '' : ', one stage per peer'}: ` +
      `its parameters with gradients and optimizer state need ${bytesText(need)} before activations; ` +
      `${replicate ? 'a peer of each cluster has' : 'the clusters have'} ${have.join(', ')}`,
  )
}

/**
 * Step (4): the fewest sub-stages t whose every replica fits its peers' memory; the segment is cut
 * into t runs of about equal work, and the cluster's peers dealt into t groups by speed.
 */
function splitInside(ctx: Context, cluster: FenceCluster, seg: Segment): StageSpec[] {
  const g = ctx.graph
  const peers = [...cluster.peers].sort((a, b) => ctx.peers.get(b)!.flops - ctx.peers.get(a)!.flops)
  for (let t = 1; t <= Math.min(peers.length, seg.end - seg.start); t++) {
    const groups = Array.from({ length: t }, (_, i) => peers.filter((_, j) => j % t === i))
    const cuts = [seg.start]
    for (let i = 1; i < t; i++) {
      const target = g.work[seg.start] + ((g.work[seg.end] - g.work[seg.start]) * i) / t
      let p = cuts[i - 1] + 1
      while (p < seg.end - (t - i) && g.work[p] < target) p++
      cuts.push(p)
    }
    cuts.push(seg.end)
    const fits = groups.every((group, i) => {
      const minMemory = Math.min(...group.map((id) => ctx.peers.get(id)!.memoryBytes))
      const need = segmentMemory(g, cuts[i], cuts[i + 1], group.length, Math.min(ctx.microBatches, t - i))
      return need <= minMemory
    })
    if (fits)
      return groups.map((group, i) => ({
        start: cuts[i],
        end: cuts[i + 1],
        peers: group,
        cluster: seg.cluster,
      }))
  }
  const params = g.params[seg.end] - g.params[seg.start]
  throw new InfeasiblePlanError(
    `ops ${seg.start}…${seg.end - 1} (${params} parameter bytes, ×${2 + OPTIMIZER_STATE_FACTOR} with gradients and optimizer state) fit no split of the cluster of '${cluster.peers[0]}'`,
  )
}
