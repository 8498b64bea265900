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
  /**
   * every group gets at least one op that computes something per peer, so that each of its peers
   * can hold a stage of its own (otherwise a group may stay empty)
   */
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
 * per-micro-batch overhead and the CPU of the bytes it sends and receives) and the wire time of its
 * cut (dense, or at `fenceRatio` over a fence) over the group's outgoing link, which the runtime
 * overlaps with the next micro-batch's compute — the link to the next group of the chain, also when
 * that one stays empty: an approximation that the final costing replaces by the real link — plus,
 * if sync-aware, its replicas' sync per step over the M + K − 1 slots of the pipeline (replicated on
 * the whole group, as step 4 does when memory allows), under the group's memory. Undefined when no
 * cut fits in memory.
 *
 * Many cuts tie on the slowest segment (whatever a slow fence link paces, every cut whose stages stay
 * under it is as good), so a second pass keeps the slowest segment within that least and minimises
 * the sum of the squares of the segments' busy times (the link a segment's cut goes over is a
 * resource of its own, paced already): of two cuts with as much work, the balanced one (headroom on
 * every stage), and of two as balanced, the one that moves fewer bytes (the CPU of every stage per
 * micro-batch, on machines whose cores the stages may share, and the pipeline's fill).
 * Compute grows as a segment grows, so the inner loops stop at the first p whose compute alone is
 * past the bound: O(K·N²) worst case, far less in practice.
 */
export function segmentDp(
  ctx: Context,
  groups: readonly Group[],
  choice: SegmentChoice,
  span: Span,
): Segment[] | undefined {
  const costs = groups.map((_, k) => groupCosts(ctx, groups, k, choice, span))
  const slowest = cutPass(ctx, costs, span, choice.everyGroup, { kind: 'slowest' })
  if (slowest === undefined) return undefined
  const bound = slowest.value * (1 + 1e-9) + 1e-12
  const lightest = cutPass(ctx, costs, span, choice.everyGroup, { kind: 'squares', bound })
  return segmentsOf(groups, (lightest ?? slowest).from, span)
}

/** A segment's costs on one group, and the bound on them from compute alone. */
interface GroupCosts {
  /** the fewest ops that compute something a segment on the group holds */
  least: number
  /**
   * `slot`: the segment's time per micro-batch, its busy time or its cut on the wire, whichever is
   * longer; `busy`: its compute, fixed costs and the CPU of its bytes; both with its sync share, and
   * Infinity past the group's memory
   */
  seconds(p: number, q: number): { slot: number; busy: number }
  /** a lower bound of the slot of ops [p', q) for every p' ≤ p: compute and fixed costs, or the wire */
  floor(p: number, q: number): number
}

const NEVER = { slot: Infinity, busy: Infinity }

function groupCosts(
  ctx: Context,
  groups: readonly Group[],
  k: number,
  choice: SegmentChoice,
  span: Span,
): GroupCosts {
  const g = ctx.graph
  const N = g.ops.length
  const group = groups[k]
  const members = group.peers.map((id) => ctx.peers.get(id)!)
  const speed = members.reduce((s, p) => s + p.flops, 0)
  const memory = members.reduce((s, p) => s + p.memoryBytes, 0)
  const inFlight = Math.min(ctx.microBatches, span.stages - group.firstStage)
  const codec = group.fence ? choice.fenceRatio : 1
  // the cut into the group came over the previous group's link (or, for a span inside a cluster,
  // over the fence before it)
  const codecIn = (k > 0 ? groups[k - 1].fence : span.start > 0) ? choice.fenceRatio : 1
  const inner = groupLink(ctx, group.peers)
  const slots = ctx.microBatches + span.stages - 1
  const out = (q: number) =>
    q === span.end
      ? 0
      : group.out
        ? transferSeconds(g.cutBytes[q], group.out.bandwidthBps, 0, codec)
        : Infinity
  const compute = (p: number, q: number) => (g.work[q] - g.work[p]) / speed
  const floor = (p: number, q: number) =>
    Math.max(stageBusySeconds(compute(p, q), q - p, ctx.overheads), out(q))
  const seconds = (p: number, q: number) => {
    const c = compute(p, q)
    // a peer given only ops that compute nothing (a weight's transpose) passes no activation on:
    // the tensors skip it, and its edge carries nothing the plan counted
    if (c === 0 && g.work[span.end] > g.work[span.start]) return NEVER
    if (segmentMemory(g, p, q, 1, inFlight) > memory) return NEVER
    // what the stage sends and receives costs it CPU: activations and gradients, in and out
    const wire = 2 * (g.cutBytes[p] * codecIn + (q === N ? 0 : g.cutBytes[q] * codec))
    const busy = stageBusySeconds(c, q - p, ctx.overheads, wire)
    const sync = choice.syncAware
      ? syncSecondsPerStep(ctx.sync, g.params[q] - g.params[p], members.length, inner, c * BACKWARD_SHARE) /
        slots
      : 0
    return { slot: Math.max(busy, out(q)) + sync, busy: busy + sync }
  }
  return { least: choice.everyGroup ? group.peers.length : 1, seconds, floor }
}

type Objective = { kind: 'slowest' } | { kind: 'squares'; bound: number }

/**
 * One pass of the DP over the chain: the least slowest slot, or the least sum of squared busy times
 * of segments whose every slot stays within `bound`. Returns the value and, per group, each q's
 * chosen start.
 */
function cutPass(
  ctx: Context,
  costs: readonly GroupCosts[],
  span: Span,
  everyGroup: boolean,
  objective: Objective,
): { value: number; from: Int32Array[] } | undefined {
  const N = ctx.graph.ops.length
  const computing = computingOps(ctx.graph)
  // a span that computes nothing at all (a test's toy graph) holds no op that could count
  const available = computing[span.end] - computing[span.start]
  let prev = new Float64Array(N + 1).fill(Infinity)
  prev[span.start] = 0
  const from: Int32Array[] = []
  for (const cost of costs) {
    const cur = everyGroup ? new Float64Array(N + 1).fill(Infinity) : Float64Array.from(prev)
    const arg = Int32Array.from({ length: N + 1 }, (_, q) => q)
    for (let q = span.start + 1; q <= span.end; q++) {
      const limit = objective.kind === 'slowest' ? () => cur[q] : () => objective.bound
      for (let p = q - 1; p >= span.start; p--) {
        if (cost.floor(p, q) >= limit()) break
        if (prev[p] === Infinity || computing[q] - computing[p] < Math.min(cost.least, available)) continue
        const seg = cost.seconds(p, q)
        if (seg.slot >= limit()) continue
        const value = objective.kind === 'slowest' ? Math.max(prev[p], seg.slot) : prev[p] + seg.busy ** 2
        if (value < cur[q]) {
          cur[q] = value
          arg[q] = p
        }
      }
    }
    from.push(arg)
    prev = cur
  }
  return prev[span.end] === Infinity ? undefined : { value: prev[span.end], from }
}

/** Prefix counts of the ops whose work is above zero (a weight's transpose computes nothing). */
function computingOps(graph: LinearGraph): Int32Array {
  const counts = new Int32Array(graph.ops.length + 1)
  for (let i = 0; i < graph.ops.length; i++)
    counts[i + 1] = counts[i] + (graph.work[i + 1] > graph.work[i] ? 1 : 0)
  return counts
}

function segmentsOf(groups: readonly Group[], from: readonly Int32Array[], span: Span): Segment[] {
  const segments: Segment[] = []
  for (let k = groups.length - 1, q = span.end; k >= 0; k--) {
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
