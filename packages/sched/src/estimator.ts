/**
 * The workload estimator (ARCHITECTURE.md, "Scheduling"): compute, transfer, pipeline, sync and
 * memory times of a placement. Every planner (OP-Fence and the baselines) is judged by it.
 */
import {
  BACKWARD_FLOPS_FACTOR,
  DEFAULT_EFFICIENCY,
  FP16_WIRE_RATIO,
  INT8_WIRE_RATIO,
  MICRO_BATCH_OVERHEAD_SECONDS,
  OP_OVERHEAD_SECONDS,
  OPTIMIZER_STATE_FACTOR,
  STEP_OVERHEAD_SECONDS,
  WIRE_BYTES_PER_KEPT,
} from './constants.ts'
import { InvalidFieldError } from './errors.ts'
import type { BoundaryEdge, EdgeCodec, OpCost, Prediction, Stage, SyncSpec, TiedExchange } from './types.ts'

export interface EstimatorOptions {
  /** fraction of a peer's calibrated FLOP/s an op type reaches; see DEFAULT_EFFICIENCY */
  efficiency?: Readonly<Record<string, number>>
  /** the runtime's fixed costs per micro-batch and per step (default DEFAULT_OVERHEADS) */
  overheads?: StepOverheads
}

/** Efficiency of an op type: the option, else the default table, else the default for `*`. */
export function efficiencyOf(opType: string, options: EstimatorOptions = {}): number {
  return options.efficiency?.[opType] ?? DEFAULT_EFFICIENCY[opType] ?? DEFAULT_EFFICIENCY['*']
}

/**
 * Forward + backward work of an op in calibrated FLOPs: FLOPs × (1 + backward factor) / efficiency,
 * so that seconds = work / peer FLOP/s.
 */
export function opWork(op: OpCost, options: EstimatorOptions = {}): number {
  return (op.flops * (1 + BACKWARD_FLOPS_FACTOR)) / efficiencyOf(op.opType, options)
}

/** Seconds for `work` when a micro-batch is split over replicas with these FLOP/s. */
export function computeSeconds(work: number, replicaFlops: readonly number[]): number {
  let total = 0
  for (const f of replicaFlops) total += f
  return work === 0 ? 0 : work / total
}

/** RTT/2 + bytes × codec ratio / bandwidth. */
export function transferSeconds(
  bytes: number,
  bandwidthBps: number,
  rttSeconds: number,
  codecRatio = 1,
): number {
  if (bytes === 0) return 0
  return rttSeconds / 2 + (bytes * codecRatio) / bandwidthBps
}

/** Wire bytes per dense byte of the AdaTopK codec at keep ratio ρ (fp32 activations). */
export function topkCodecRatio(keepRatio: number): number {
  return keepRatio >= 1 ? 1 : keepRatio * WIRE_BYTES_PER_KEPT
}

/** Wire bytes per dense byte of a boundary codec (`keepRatio` counts for top-k only). */
export function codecWireRatio(codec: EdgeCodec, keepRatio = 1): number {
  if (codec === 'topk-fp16') return topkCodecRatio(keepRatio)
  if (codec === 'fp16') return FP16_WIRE_RATIO
  if (codec === 'int8') return INT8_WIRE_RATIO
  return 1
}

/** Ring all-reduce of `bytes` over n replicas: 2(n−1)/n × bytes / bandwidth + 2(n−1) half-RTTs. */
export function allReduceSeconds(
  bytes: number,
  replicas: number,
  bandwidthBps: number,
  rttSeconds: number,
): number {
  if (replicas <= 1 || bytes === 0) return 0
  return (2 * (replicas - 1) * bytes) / (replicas * bandwidthBps) + (replicas - 1) * rttSeconds
}

/**
 * Data-parallel sync time per step of `bytes` of parameters over n replicas, by algorithm:
 * S-SGD all-reduces every step; Local SGD and DiLoCo every H steps (amortised: 1/H per step);
 * DreamDDP sends about 1/H of the layers each step, overlapped with that step's backward, so it
 * costs what does not fit behind `backwardSeconds`. This closed form is what the planner's DP uses;
 * the final plan's stages replace it by their solved schedule (stageSyncPlan).
 */
export function syncSecondsPerStep(
  sync: SyncSpec,
  bytes: number,
  replicas: number,
  link: { bandwidthBps: number; rttSeconds: number },
  backwardSeconds: number,
): number {
  const full = allReduceSeconds(bytes, replicas, link.bandwidthBps, link.rttSeconds)
  if (sync.algorithm === 'ssgd') return full
  if (sync.algorithm === 'dreamddp') return Math.max(0, full / sync.period - backwardSeconds)
  return full / sync.period
}

/**
 * Memory per peer of a stage replicated n ways in a pipeline of S stages at position s with M
 * micro-batches: parameters + gradients + optimizer state, plus the activations 1F1B keeps for
 * min(M, S − s) micro-batches in flight, split over the replicas.
 */
export function stageMemoryBytes(
  paramBytes: number,
  activationBytes: number,
  replicas: number,
  inFlight: number,
): number {
  return paramBytes * (2 + OPTIMIZER_STATE_FACTOR) + (activationBytes * inFlight) / replicas
}

/** Fixed costs of the runtime that FLOPs and bytes do not show; see the defaults in constants.ts. */
export interface StepOverheads {
  /** per stage and micro-batch: its session runs, reading outputs, handing tensors to the mesh */
  microBatchSeconds: number
  /** per op of a stage and micro-batch, forward and backward: a kernel's launch, whatever its size */
  opSeconds: number
  /** per step: the coordinator's step and commit round trips and each stage's update */
  stepSeconds: number
}

export const DEFAULT_OVERHEADS: StepOverheads = {
  microBatchSeconds: MICRO_BATCH_OVERHEAD_SECONDS,
  opSeconds: OP_OVERHEAD_SECONDS,
  stepSeconds: STEP_OVERHEAD_SECONDS,
}

/** A stage's time per micro-batch: its compute, and the runtime's fixed costs for it and its ops. */
export function stageBusySeconds(compute: number, ops: number, overheads: StepOverheads): number {
  return compute + overheads.microBatchSeconds + ops * overheads.opSeconds
}

/**
 * 1F1B step time as the runtime runs it: a stage sends its boundary tensors without waiting for them
 * to arrive, so while micro-batch m crosses a link the stage computes m + 1, and stages and links are
 * busy at once. The slot is the busiest of them: a stage's compute plus its per-micro-batch overhead,
 * a link's bytes over its bandwidth, or a stage's cycle shared by its micro-batches in flight (1F1B
 * lets stage s hold S − s of them: a micro-batch leaves it and comes back as a gradient after every
 * later stage and transfer, latency included, has seen it; with few in flight and a long way round,
 * that waiting sets the pace). The first micro-batch's way forward through every stage and back fills
 * the pipeline, and the other M − 1 each add a slot. After the last micro-batch the tied parameters'
 * gradients cross (dense), the coordinator commits (per-step overhead), and the slowest sync is paid.
 */
export function predictStep(
  stages: readonly Stage[],
  edges: readonly BoundaryEdge[],
  microBatches: number,
  tied: readonly TiedExchange[] = [],
  overheads: StepOverheads = DEFAULT_OVERHEADS,
): Prediction {
  const S = stages.length
  const busy = stages.map((st) => stageBusySeconds(st.computeSeconds, st.ops.length, overheads))
  // transfer time both ways of the edge out of stage s (activations forward, gradients back)
  const out = stages.map((st) => 2 * (edges.find((e) => e.from === st.index)?.seconds ?? 0))
  let slot = 0
  let bottleneck = 'nothing'
  const consider = (seconds: number, what: string) => {
    if (seconds > slot) [slot, bottleneck] = [seconds, what]
  }
  let roundTrip = 0 // from stage s's output back to its input gradient: later stages and transfers
  for (let s = S - 1; s >= 0; s--) {
    consider(busy[s], `stage ${s} compute`)
    consider((busy[s] + roundTrip) / Math.min(microBatches, S - s), `stage ${s} in-flight round trip`)
    roundTrip += busy[s] + (s > 0 ? out[s - 1] : 0)
  }
  let maxEdge = 0
  for (const e of edges) {
    maxEdge = Math.max(maxEdge, e.seconds)
    // what occupies the link is the bytes; the latency overlaps
    consider(e.seconds - e.rttSeconds / 2, `edge ${e.from}→${e.to}`)
  }
  const fill = roundTrip
  const tiedSeconds = tied.reduce((worst, t) => Math.max(worst, t.seconds), 0)
  const sync = stages.reduce((worst, st) => Math.max(worst, st.syncSeconds), 0)
  const pipeline = fill + (microBatches - 1) * slot
  return {
    stepSeconds: pipeline + tiedSeconds + overheads.stepSeconds + sync,
    slotSeconds: slot,
    bottleneck,
    breakdown: {
      pipelineSeconds: pipeline,
      fillSeconds: fill,
      syncSeconds: sync,
      tiedSeconds,
      stepOverheadSeconds: overheads.stepSeconds,
      maxComputeSeconds: Math.max(0, ...stages.map((st) => st.computeSeconds)),
      maxEdgeSeconds: maxEdge,
    },
  }
}

/** A measured run of one op type on one peer, for calibration. */
export interface EfficiencySample {
  opType: string
  flops: number
  seconds: number
  peerFlops: number
}

/** Per-op-type efficiency from measured runs: the median of achieved / calibrated FLOP/s. */
export function calibrateEfficiency(samples: readonly EfficiencySample[]): Record<string, number> {
  const byType = new Map<string, number[]>()
  for (const s of samples) {
    if (!(s.seconds > 0 && s.peerFlops > 0 && s.flops > 0)) continue
    byType.set(s.opType, [...(byType.get(s.opType) ?? []), s.flops / s.seconds / s.peerFlops])
  }
  const out: Record<string, number> = {}
  for (const [type, values] of byType) {
    values.sort((a, b) => a - b)
    const mid = values.length >> 1
    const median = values.length % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2
    out[type] = Math.min(1, median)
  }
  return out
}

/** How far a prediction was from measured steps: what the runtime reports to keep the estimator honest. */
export interface PredictionCheck {
  predictedSeconds: number
  measuredMedianSeconds: number
  /** (predicted − measured) / measured: > 0 means the estimator was pessimistic */
  relativeError: number
}

export function checkPrediction(
  prediction: Prediction,
  measuredStepSeconds: readonly number[],
): PredictionCheck {
  const measured = measuredStepSeconds.filter((s) => Number.isFinite(s) && s > 0).sort((a, b) => a - b)
  if (measured.length === 0)
    throw new InvalidFieldError('measuredStepSeconds', 'at least one time > 0', measuredStepSeconds)
  const mid = measured.length >> 1
  const median = measured.length % 2 ? measured[mid] : (measured[mid - 1] + measured[mid]) / 2
  return {
    predictedSeconds: prediction.stepSeconds,
    measuredMedianSeconds: median,
    relativeError: (prediction.stepSeconds - median) / median,
  }
}
