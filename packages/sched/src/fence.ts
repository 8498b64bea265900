import { orderClusters } from './chain.ts'
import { type ClusterOptions, clusterPeers, type FenceLink, linkMatrix } from './cluster.ts'
import { BACKWARD_FLOPS_FACTOR, MIN_ACTIVATION_KEEP_RATIO, OPTIMIZER_STATE_FACTOR } from './constants.ts'
import { InfeasiblePlanError } from './errors.ts'
import { assignKeepRatios } from './adatopk.ts'
import {
  type EstimatorOptions,
  predictStep,
  stageMemoryBytes,
  syncSecondsPerStep,
  topkCodecRatio,
  transferSeconds,
} from './estimator.ts'
import { type LinearGraph, linearize } from './graph.ts'
import { type Context, context, costStages, groupLink, type StageSpec } from './stages.ts'
import type { FenceCluster, Plan, SyncSpec } from './types.ts'
import { checkSync, type PlanInput, parsePlanInput } from './validate.ts'

export interface FenceOptions extends ClusterOptions, EstimatorOptions {
  /** compress fence edges that would be the bottleneck (default true) */
  adaTopK?: boolean
  /** how stage replicas synchronise (default S-SGD, every step) */
  sync?: SyncSpec
}

/**
 * OP-Fence: (1) cluster peers at the largest drop in bandwidth; (2) chain the clusters so that the
 * slowest fence is as fast as possible; (3) cut the linearised DAG into one contiguous segment per
 * cluster by dynamic programming minimising the slowest segment (compute on the cluster + transfer
 * over its fence), under the cluster's memory; (4) inside a cluster, replicate the segment on every
 * peer, or split it into the fewest sub-stages whose replicas fit in memory; then AdaTopK.
 */
export function planFence(input: PlanInput, options: FenceOptions = {}): Plan {
  const { peers, links: peerLinks, ops, microBatches } = parsePlanInput(input)
  const m = linkMatrix(peers, peerLinks)
  const found = clusterPeers(m, options)
  const { order, links } = orderClusters(found, m)
  const clusters = order.map((i) => found[i])
  const graph = linearize(ops, options)
  const sync = checkSync(options.sync)
  const ctx = context(graph, m, peers, microBatches, sync)
  const adaTopK = options.adaTopK !== false
  // The DP minimises the slowest slot with fences dense; with AdaTopK it also tries them at the
  // least keep ratio (compression can make a cut worth it that dense transfer would not), and it
  // tries adding each segment's sync spread over the pipeline's slots (the step pays the slowest
  // sync once, so fewer parameters per cluster can beat a faster slot). The estimator picks.
  const choices = (adaTopK ? [false, true] : [false]).flatMap((compressed) => [
    { compressed, syncAware: false },
    { compressed, syncAware: true },
  ])
  const variants = choices.map((choice) => {
    const segments = segmentDp(ctx, clusters, links, choice)
    const specs = segments.flatMap((seg) => splitInside(ctx, clusters[seg.cluster], seg))
    const costed = costStages(ctx, specs)
    const edges = adaTopK ? assignKeepRatios(costed.stages, costed.edges) : costed.edges
    return { ...costed, edges, predicted: predictStep(costed.stages, edges, microBatches) }
  })
  const best = variants.reduce((a, b) => (b.predicted.stepSeconds < a.predicted.stepSeconds ? b : a))
  return {
    algorithm: 'op-fence',
    microBatches,
    clusters,
    stages: best.stages,
    edges: best.edges,
    sync,
    predicted: best.predicted,
  }
}

/** Fraction of a stage's compute that is backward (what DreamDDP sync can hide behind). */
const BACKWARD_SHARE = BACKWARD_FLOPS_FACTOR / (1 + BACKWARD_FLOPS_FACTOR)

interface Segment {
  cluster: number
  start: number
  end: number
}

/**
 * f[k][q]: least slowest-segment time covering ops 0…q−1 with clusters 0…k of the chain, a cluster
 * possibly left empty. A segment's time is its compute on the cluster's total FLOP/s plus the
 * transfer of its cut (dense, or at the least AdaTopK ratio) over the cluster's outgoing fence —
 * the link to the next cluster of the chain, also when that one stays empty: an approximation
 * that the final costing replaces by the real link — plus, if sync-aware, its replicas' sync per
 * step over the M + K − 1 slots of the pipeline (replicated on the whole cluster, as step 4 does
 * when memory allows). Compute and memory grow as a segment grows, so the inner loop stops at the first p that cannot
 * beat the best so far: O(K·N²) worst case, far less in practice.
 */
function segmentDp(
  ctx: Context,
  clusters: readonly FenceCluster[],
  links: readonly FenceLink[],
  choice: { compressed: boolean; syncAware: boolean },
): Segment[] {
  const codec = choice.compressed ? topkCodecRatio(MIN_ACTIVATION_KEEP_RATIO) : 1
  const g = ctx.graph
  const N = g.ops.length
  const K = clusters.length
  let prev = new Float64Array(N + 1).fill(Infinity)
  prev[0] = 0
  const from: Int32Array[] = []
  for (let k = 0; k < K; k++) {
    const members = clusters[k].peers.map((id) => ctx.peers.get(id)!)
    const speed = members.reduce((s, p) => s + p.flops, 0)
    const memory = members.reduce((s, p) => s + p.memoryBytes, 0)
    const inFlight = Math.min(ctx.microBatches, K - k)
    const link = links[k]
    const inner = groupLink(ctx, clusters[k].peers)
    const slots = ctx.microBatches + K - 1
    const syncShare = (p: number, q: number, compute: number) =>
      choice.syncAware
        ? syncSecondsPerStep(
            ctx.sync,
            g.params[q] - g.params[p],
            members.length,
            inner,
            compute * BACKWARD_SHARE,
          ) / slots
        : 0
    const cur = Float64Array.from(prev)
    const arg = Int32Array.from({ length: N + 1 }, (_, q) => q)
    for (let q = 1; q <= N; q++) {
      const out =
        q === N
          ? 0
          : link
            ? transferSeconds(g.cutBytes[q], link.bandwidthBps, link.rttSeconds, codec)
            : Infinity
      if (out >= cur[q]) continue
      for (let p = q - 1; p >= 0; p--) {
        const compute = (g.work[q] - g.work[p]) / speed
        const seg = compute + out
        if (seg >= cur[q]) break
        if (segmentMemory(g, p, q, 1, inFlight) > memory) break
        const value = Math.max(prev[p], seg + syncShare(p, q, compute))
        if (value < cur[q]) {
          cur[q] = value
          arg[q] = p
        }
      }
    }
    from.push(arg)
    prev = cur
  }
  if (prev[N] === Infinity)
    throw new InfeasiblePlanError(`the model does not fit in the memory of the ${K} clusters`)
  const segments: Segment[] = []
  for (let k = K - 1, q = N; k >= 0; k--) {
    const p = from[k][q]
    if (p < q) segments.unshift({ cluster: k, start: p, end: q })
    q = p
  }
  return segments
}

function segmentMemory(g: LinearGraph, p: number, q: number, replicas: number, inFlight: number): number {
  return stageMemoryBytes(g.params[q] - g.params[p], g.outputs[q] - g.outputs[p], replicas, inFlight)
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
