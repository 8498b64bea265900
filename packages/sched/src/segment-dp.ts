/**
 * The dynamic program at the heart of OP-Fence: cut a span of the linearised DAG into contiguous
 * segments over a chain of groups (clusters, or single peers), minimising the slowest segment.
 */
import { BACKWARD_FLOPS_FACTOR } from './constants.ts'
import { stageBusySeconds, stageMemoryBytes, syncSecondsPerStep, transferSeconds } from './estimator.ts'
import type { LinearGraph } from './graph.ts'
import { type Context, groupLink } from './stages.ts'

/** Fraction of a stage's compute that is backward (what DreamDDP sync can hide behind). */
const BACKWARD_SHARE = BACKWARD_FLOPS_FACTOR / (1 + BACKWARD_FLOPS_FACTOR)

/** What the DP cuts the graph over: a cluster, or one peer of one, and the link out of it. */
export interface Group {
  peers: string[]
  cluster: number
  /** the link to the next group of the chain; none for the last */
  out?: { bandwidthBps: number; rttSeconds: number }
  /** whether `out` crosses a fence: only those edges are compressed */
  fence: boolean
  /** pipeline position of the group's first stage: how many micro-batches' activations it holds */
  firstStage: number
}

/** Ops [start, end) of the linear order on groups[group]. */
export interface Segment {
  group: number
  cluster: number
  start: number
  end: number
}

export interface SegmentChoice {
  /** wire bytes per dense byte on fence links (1: dense) */
  fenceRatio: number
  /** add each segment's replica sync, spread over the pipeline's slots */
  syncAware: boolean
  /** every group gets at least one op per peer (otherwise a group may stay empty) */
  everyGroup: boolean
}

/** Which ops the DP cuts, and how many stages the whole pipeline has. */
export interface Span {
  start: number
  end: number
  stages: number
}

/**
 * f[k][q]: least slowest-segment time covering ops start…q−1 with groups 0…k of the chain. A
 * segment's time is the longer of its compute on the group's total FLOP/s (plus the runtime's
 * per-micro-batch overhead) and the wire time of its cut (dense, or at `fenceRatio` over a fence)
 * over the group's outgoing link, which the runtime overlaps with the next micro-batch's compute — the link to the next group of
 * the chain, also when that one stays empty: an approximation that the final costing replaces by
 * the real link — plus, if sync-aware, its replicas' sync per step over the M + K − 1 slots of the
 * pipeline (replicated on the whole group, as step 4 does when memory allows), under the group's
 * memory. Compute and memory grow as a segment grows, so the inner loop stops at the first p that
 * cannot beat the best so far: O(K·N²) worst case, far less in practice. Undefined when no cut
 * fits in memory.
 */
export function segmentDp(
  ctx: Context,
  groups: readonly Group[],
  choice: SegmentChoice,
  span: Span,
): Segment[] | undefined {
  const g = ctx.graph
  const N = g.ops.length
  const K = groups.length
  let prev = new Float64Array(N + 1).fill(Infinity)
  prev[span.start] = 0
  const from: Int32Array[] = []
  for (let k = 0; k < K; k++) {
    const group = groups[k]
    const members = group.peers.map((id) => ctx.peers.get(id)!)
    const speed = members.reduce((s, p) => s + p.flops, 0)
    const memory = members.reduce((s, p) => s + p.memoryBytes, 0)
    const inFlight = Math.min(ctx.microBatches, span.stages - group.firstStage)
    const least = choice.everyGroup ? group.peers.length : 1
    const codec = group.fence ? choice.fenceRatio : 1
    const inner = groupLink(ctx, group.peers)
    const slots = ctx.microBatches + span.stages - 1
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
    const cur = choice.everyGroup ? new Float64Array(N + 1).fill(Infinity) : Float64Array.from(prev)
    const arg = Int32Array.from({ length: N + 1 }, (_, q) => q)
    for (let q = span.start + 1; q <= span.end; q++) {
      // the cut's bytes on the wire, sent while the segment computes the next micro-batch
      const out =
        q === span.end
          ? 0
          : group.out
            ? transferSeconds(g.cutBytes[q], group.out.bandwidthBps, 0, codec)
            : Infinity
      if (out >= cur[q]) continue
      for (let p = q - least; p >= span.start; p--) {
        const compute = (g.work[q] - g.work[p]) / speed
        // a peer given only ops that compute nothing (a weight's transpose) passes no activation on:
        // the tensors skip it, and its edge carries nothing the plan counted
        if (compute === 0 && g.work[span.end] > g.work[span.start]) continue
        const seg = Math.max(stageBusySeconds(compute, q - p, ctx.overheads), out)
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
  if (prev[span.end] === Infinity) return undefined
  const segments: Segment[] = []
  for (let k = K - 1, q = span.end; k >= 0; k--) {
    const p = from[k][q]
    if (p < q) segments.unshift({ group: k, cluster: groups[k].cluster, start: p, end: q })
    q = p
  }
  return segments
}

/** Memory per peer of ops [start, end) on `replicas` replicas holding `inFlight` micro-batches. */
export function segmentMemory(
  graph: LinearGraph,
  start: number,
  end: number,
  replicas: number,
  inFlight: number,
): number {
  const params = graph.params[end] - graph.params[start]
  return stageMemoryBytes(params, graph.outputs[end] - graph.outputs[start], replicas, inFlight)
}
