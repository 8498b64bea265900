/**
 * The workload estimator (ARCHITECTURE.md, "Scheduling"): compute, transfer, pipeline, sync and
 * memory times of a placement. Every planner (OP-Fence and the baselines) is judged by it.
 */
import {
  BACKWARD_FLOPS_FACTOR,
  DEFAULT_EFFICIENCY,
  FP16_WIRE_RATIO,
  IN_FLIGHT_SLACK,
  INT8_WIRE_RATIO,
  MICRO_BATCH_OVERHEAD_SECONDS,
  MESH_BYTE_SECONDS,
  OP_OVERHEAD_SECONDS,
  OPTIMIZER_STATE_FACTOR,
  STEP_OVERHEAD_SECONDS,
  WIRE_BYTES_PER_KEPT,
} from './constants.ts'
import { InvalidFieldError } from './errors.ts'
import type {
  BoundaryEdge,
  EdgeCodec,
  OpCost,
  PeerProfile,
  Prediction,
  Stage,
  SyncSpec,
  TiedExchange,
} from './types.ts'

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

/**
 * Wire bytes per dense byte of top-k + fp16 at keep ratio ρ (fp32 activations): WIRE_BYTES_PER_KEPT
 * while the mean gap between kept indices fits a 1-byte varint, a quarter more per further 7 bits.
 */
export function topkCodecRatio(keepRatio: number): number {
  if (keepRatio >= 1) return 1
  const gapBits = Math.log2(Math.max(1, 1 / keepRatio))
  const extraIndexBytes = Math.max(0, Math.ceil(gapBits / 7) - 1)
  return Math.min(1, keepRatio * (WIRE_BYTES_PER_KEPT + extraIndexBytes / 4))
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
  /**
   * per byte a stage sends or receives over the mesh, at its end: framing, copies and the stream's
   * CPU, which the stage's own compute waits for on a machine without cores to spare (optional: 0)
   */
  byteSeconds?: number
}

export const DEFAULT_OVERHEADS: StepOverheads = {
  microBatchSeconds: MICRO_BATCH_OVERHEAD_SECONDS,
  opSeconds: OP_OVERHEAD_SECONDS,
  stepSeconds: STEP_OVERHEAD_SECONDS,
  byteSeconds: MESH_BYTE_SECONDS,
}

/**
 * A stage's time per micro-batch: its compute, the runtime's fixed costs for it and its ops, and the
 * CPU of the `wireBytes` it sends and receives (activations and gradients, as they go on the wire).
 */
export function stageBusySeconds(
  compute: number,
  ops: number,
  overheads: StepOverheads,
  wireBytes = 0,
): number {
  return (
    compute +
    overheads.microBatchSeconds +
    ops * overheads.opSeconds +
    wireBytes * (overheads.byteSeconds ?? 0)
  )
}

/** Bytes on the wire per micro-batch into and out of stage s: each edge's activations and their gradients. */
export function stageWireBytes(stage: number, edges: readonly BoundaryEdge[]): number {
  let bytes = 0
  for (const e of edges)
    if (e.from === stage || e.to === stage) bytes += 2 * e.bytes * codecWireRatio(e.codec, e.keepRatio)
  return bytes
}

/**
 * 1F1B step time as the runtime runs it: a stage sends its boundary tensors without waiting for them
 * to arrive, so while micro-batch m crosses a link the stage computes m + 1, and stages and links are
 * busy at once. The slot is the busiest of them: a stage's compute plus its fixed and per-byte costs,
 * or a link's bytes over its bandwidth. A micro-batch leaves stage s and comes back as a gradient
 * after every later stage and transfer, latency included, has seen it; the stage keeps enough
 * micro-batches in flight (its warm-up, `inFlight`) to cover that round trip at the slot's pace, at
 * least 1F1B's S − s and never fewer than the stage after it holds plus one (so that no stage waits
 * on one that waits on it), at most M. Where M is too few, the round trip shared by them sets the
 * pace. Stages whose peers share a machine (`hosts`: peer id → machine) take turns on its cores: their
 * busy times add up. The first micro-batch's way forward through every stage and back fills the pipeline, and
 * the other M − 1 each add a slot. After the last micro-batch the tied parameters' gradients cross
 * (dense), the coordinator commits (per-step overhead), and the slowest sync is paid.
 */
export function predictStep(
  stages: readonly Stage[],
  edges: readonly BoundaryEdge[],
  microBatches: number,
  tied: readonly TiedExchange[] = [],
  overheads: StepOverheads = DEFAULT_OVERHEADS,
  hosts: ReadonlyMap<string, string> = new Map(),
): Prediction {
  const S = stages.length
  const busy = stages.map((st) =>
    stageBusySeconds(st.computeSeconds, st.ops.length, overheads, stageWireBytes(st.index, edges)),
  )
  // transfer time both ways of the edge out of stage s (activations forward, gradients back)
  const out = stages.map((st) => 2 * (edges.find((e) => e.from === st.index)?.seconds ?? 0))
  let slot = 0
  let bottleneck = 'nothing'
  const consider = (seconds: number, what: string) => {
    if (seconds > slot) [slot, bottleneck] = [seconds, what]
  }
  let maxEdge = 0
  for (const e of edges) {
    maxEdge = Math.max(maxEdge, e.seconds)
    // what occupies the link is the bytes; the latency overlaps
    consider(e.seconds - e.rttSeconds / 2, `edge ${e.from}→${e.to}`)
  }
  for (let s = 0; s < S; s++) consider(busy[s], `stage ${s} compute`)
  for (const [host, seconds] of hostLoads(stages, busy, hosts))
    consider(seconds, `host ${host.slice(0, 8)} compute (stages sharing it)`)
  const { inFlight, fill } = warmUps(busy, out, microBatches, slot)
  for (let s = S - 1; s >= 0; s--) {
    const cycle = busy[s] + roundTripAfter(busy, out, s)
    consider(cycle / inFlight[s], `stage ${s} in-flight round trip`)
  }
  const tiedSeconds = tied.reduce((worst, t) => Math.max(worst, t.seconds), 0)
  const sync = stages.reduce((worst, st) => Math.max(worst, st.syncSeconds), 0)
  const pipeline = fill + (microBatches - 1) * slot
  return {
    stepSeconds: pipeline + tiedSeconds + overheads.stepSeconds + sync,
    slotSeconds: slot,
    bottleneck,
    inFlight,
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

/**
 * Per machine that holds more than one stage's replica, the busy time of all of them: a calibrated
 * FLOP/s is the machine's (every core), so stages on one machine take turns rather than overlap.
 */
function hostLoads(
  stages: readonly Stage[],
  busy: readonly number[],
  hosts: ReadonlyMap<string, string>,
): Map<string, number> {
  const load = new Map<string, { seconds: number; stages: number }>()
  stages.forEach((st, s) => {
    for (const peer of st.peers) {
      const host = hosts.get(peer)
      if (host === undefined) continue
      const now = load.get(host) ?? { seconds: 0, stages: 0 }
      load.set(host, { seconds: now.seconds + busy[s], stages: now.stages + 1 })
    }
  })
  return new Map([...load].filter(([, l]) => l.stages > 1).map(([host, l]) => [host, l.seconds]))
}

/** Peer id → machine, for the peers whose profile says which (PeerProfile.host). */
export function hostsOf(peers: Iterable<PeerProfile>): Map<string, string> {
  const hosts = new Map<string, string>()
  for (const p of peers) if (p.host !== undefined) hosts.set(p.id, p.host)
  return hosts
}

/** Seconds from stage s's output to its input gradient: the later stages and transfers, both ways. */
function roundTripAfter(busy: readonly number[], out: readonly number[], s: number): number {
  let seconds = out[s] ?? 0
  for (let t = s + 1; t < busy.length; t++) seconds += busy[t] + (t + 1 < busy.length ? out[t] : 0)
  return seconds
}

/**
 * Each stage's micro-batches in flight (see predictStep), from the last stage back, and the fill:
 * the first micro-batch's way through every stage and back.
 */
function warmUps(
  busy: readonly number[],
  out: readonly number[],
  microBatches: number,
  slot: number,
): { inFlight: number[]; fill: number } {
  const S = busy.length
  const inFlight = new Array<number>(S).fill(1)
  for (let s = S - 1; s >= 0; s--) {
    // the way round after the stage, with room for the standing queue of a link that paces it
    const cycle = busy[s] + IN_FLIGHT_SLACK * roundTripAfter(busy, out, s)
    const covering = slot > 0 ? Math.ceil(cycle / slot - 1e-9) : 1
    const after = s + 1 < S ? inFlight[s + 1] + 1 : 1
    inFlight[s] = Math.min(microBatches, Math.max(S - s, covering, after))
  }
  return { inFlight, fill: S === 0 ? 0 : busy[0] + roundTripAfter(busy, out, 0) }
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
