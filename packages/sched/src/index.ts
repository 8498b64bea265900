/**
 * @atoll/sched — where every operator runs, what each link carries and when each layer
 * synchronises: the workload estimator, OP-Fence, AdaTopK ratio assignment and the DreamDDP
 * schedule solver. Pure functions over plain, JSON-serialisable data; no I/O.
 *
 * @example
 * ```ts
 * import { formatPlan, placeJob, planDreamDdp, planEven, planFence } from '@atoll/sched'
 * const plan = planDreamDdp({ names: ['fc2', 'fc1'], bp: [0.01, 0.02], comm: [0.02, 0.03], period: 2 })
 * plan.schedule // { fc2: [0, 1], fc1: [0] }: fc1 (ready when backward ends) once, fc2 filled in twice
 * plan.waitPerPeriod // 0.03 s, proven minimal under the FIFO model (plan.optimal)
 *
 * const input = { peers, links, ops, microBatches: 8 } // PeerProfile[], LinkProfile[], OpCost[]
 * planEven(input).predicted.stepSeconds / planFence(input).predicted.stepSeconds // OP-Fence's speed-up
 *
 * // a job: one peer per stage, core StageSpecs for partitionGraph, a codec per boundary
 * const job = placeJob(graph, { loss: 'loss', bindings: { batch: 4 }, microBatches: 8, peers, links,
 *   placement: 'fence', compression: 'adatopk' })
 * formatPlan(job.plan) // stages → peers, what crosses each fence at which keep ratio, predicted step
 * partitionGraph(graph, { loss: 'loss', stages: job.stages.map((s) => s.spec), bindings: { batch: 4 } })
 * ```
 */
export { type BaselineOptions, planEven, planRandom } from './baselines.ts'
export {
  type ClusterOptions,
  clusterPeers,
  type FenceLink,
  type LinkMatrix,
  linkMatrix,
} from './cluster.ts'
export { chainPeers, orderClusters } from './chain.ts'
export {
  type Compression,
  compressFenceEdges,
  compressionSchema,
  type FenceCodec,
  fenceWireRatio,
} from './compression.ts'
export { type PlacedStage, planExplicit } from './explicit.ts'
export {
  type BoundaryCodec,
  type JobPlacement,
  type JobPlacementInput,
  type Placement,
  placeJob,
  placementSchema,
} from './place-job.ts'
export { assignKeepRatios } from './adatopk.ts'
export {
  DEFAULT_EFFICIENCY,
  IN_FLIGHT_SLACK,
  MESH_BYTE_SECONDS,
  MICRO_BATCH_OVERHEAD_SECONDS,
  MIN_ACTIVATION_KEEP_RATIO,
  OP_OVERHEAD_SECONDS,
  STEP_OVERHEAD_SECONDS,
  WIRE_BYTES_PER_KEPT,
} from './constants.ts'
export {
  allReduceSeconds,
  calibrateEfficiency,
  checkPrediction,
  codecWireRatio,
  computeSeconds,
  type EfficiencySample,
  type EstimatorOptions,
  type PredictionCheck,
  efficiencyOf,
  opWork,
  DEFAULT_OVERHEADS,
  hostsOf,
  predictStep,
  type StepOverheads,
  stageBusySeconds,
  stageWireBytes,
  stageMemoryBytes,
  syncSecondsPerStep,
  topkCodecRatio,
  transferSeconds,
} from './estimator.ts'
export { type FenceOptions, planFence } from './fence.ts'
export { type LinearGraph, layerOf, linearize } from './graph.ts'
export { opCostsOfGraph } from './model.ts'
export { bytesText, formatPlan } from './summary.ts'
export type {
  BoundaryEdge,
  EdgeCodec,
  FenceCluster,
  LinkProfile,
  OpCost,
  PeerProfile,
  Plan,
  Prediction,
  Stage,
  SyncSpec,
  TiedExchange,
} from './types.ts'
export {
  checkSync,
  type OpCostInput,
  type ParsedPlanInput,
  type PlanInput,
  parseLinks,
  parseOpCosts,
  parsePeers,
  parsePlanInput,
} from './validate.ts'
export { solveContiguous, type SingleSchedule } from './dreamddp/contiguous.ts'
export { type ExactOptions, type ExactResult, solveExact } from './dreamddp/exact.ts'
export { fillIn } from './dreamddp/fillin.ts'
export {
  iterationWait,
  layersByIteration,
  scheduleWaits,
  type SyncProblem,
  timeline,
} from './dreamddp/model.ts'
export {
  type DreamPlan,
  type DreamPlanOptions,
  planDreamDdp,
  type SyncBaselines,
  syncBaselines,
} from './dreamddp/plan.ts'
export { type LayerTimes, parseLayerTimes, parseReferenceSchedule, syncProblem } from './dreamddp/profile.ts'
export { PUBLISHED_PROFILES } from './dreamddp/published.ts'
export { type StageSyncInput, stageSyncPlan } from './dreamddp/stage-sync.ts'
export {
  CyclicGraphError,
  InfeasiblePlanError,
  InsufficientMemoryError,
  InvalidFieldError,
  ProfileParseError,
  SchedError,
  StageOrderError,
  UnknownReferenceError,
  UnmatchedScopeError,
} from './errors.ts'
