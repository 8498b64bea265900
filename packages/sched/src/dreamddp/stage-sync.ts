/**
 * DreamDDP inside a plan: the sync schedule of one stage's replica group, solved from the plan's own
 * per-layer costs. The estimator's closed form (full sync / H less the backward it hides behind)
 * needs no layer timings, so the planner's DP uses it; the final plan's stages get the real
 * schedule, and its wait per period / H as their sync time per step.
 */
import { BACKWARD_FLOPS_FACTOR } from '../constants.ts'
import { allReduceSeconds, computeSeconds } from '../estimator.ts'
import type { LinearGraph } from '../graph.ts'
import { type DreamPlan, planDreamDdp } from './plan.ts'
import { type LayerTimes, syncProblem } from './profile.ts'

/** Fraction of an op's work (forward + backward) that is backward. */
const BACKWARD_SHARE = BACKWARD_FLOPS_FACTOR / (1 + BACKWARD_FLOPS_FACTOR)

export interface StageSyncInput {
  graph: LinearGraph
  /** ops [start, end) of the linear order */
  start: number
  end: number
  /** FLOP/s of each replica: the backward of the step's last micro-batch is split over them */
  replicaFlops: readonly number[]
  /** the replica group's ring: its slowest link and longest RTT */
  link: { bandwidthBps: number; rttSeconds: number }
  period: number
}

/**
 * The stage's layers with parameters, in backward order, each with the backward time of its ops and
 * the ring all-reduce time of its parameters, scheduled by planDreamDdp (exact under the FIFO
 * model). A layer without parameters has nothing to average: its backward time is folded into the
 * next layer's, as syncProblem does for a profile. A layer split by the linear order is one layer.
 * Undefined when the stage has no parameters.
 */
export function stageSyncPlan(input: StageSyncInput): DreamPlan | undefined {
  const { graph: g, start, end, replicaFlops, link, period } = input
  const bp: LayerTimes = {}
  const params = new Map<string, number>()
  for (let p = start; p < end; p++) {
    const layer = g.layers[p]
    bp[layer] = (bp[layer] ?? 0) + g.work[p + 1] - g.work[p]
    params.set(layer, (params.get(layer) ?? 0) + g.params[p + 1] - g.params[p])
  }
  const comm: LayerTimes = {}
  for (const [layer, bytes] of params) {
    bp[layer] = computeSeconds(bp[layer], replicaFlops) * BACKWARD_SHARE
    if (bytes > 0) {
      comm[layer] = allReduceSeconds(bytes, replicaFlops.length, link.bandwidthBps, link.rttSeconds)
    }
  }
  return Object.keys(comm).length === 0 ? undefined : planDreamDdp(syncProblem(bp, comm, period))
}
