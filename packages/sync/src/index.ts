/**
 * @atoll/sync: collectives among the replicas of a model (or of a pipeline stage) over the mesh's
 * `/atoll/tensor/1` streams. All-reduce, flat or hierarchical (chosen from the measured links), sums
 * in a fixed order so that every replica gets the same bits; optional int8 or top-k with error
 * feedback; a deadline from the links' measured speed, after which the late members are named
 * (LateReplicaError) on every member that waited on them. The training algorithms come later, on top.
 *
 * @example
 * ```ts
 * import { LateReplicaError, SyncGroup } from '@atoll/sync'
 * const group = new SyncGroup({ mesh, group: 'job-1/stage-0', members, links }) // members: the same order everywhere
 * group.onReject((r) => log.warn(r, 'sync message rejected')) // wrong round, shape, sender, NaN…
 * try {
 *   const sum = await group.allReduce(step, gradients, { compression: { codec: 'int8' } })
 * } catch (err) {
 *   if (!(err instanceof LateReplicaError) || err.peers.includes(group.peerId)) throw err
 *   group.exclude(err.peers) // every other replica does the same
 *   const sum = await group.allReduce(step, gradients) // the others renormalise by group.members.length
 * }
 * ```
 */
export type { SyncCompression } from './codec.ts'
export * from './constants.ts'
export { isSyncEdge, parseSyncEdge, SYNC_PHASES, type SyncAddress, type SyncPhase, syncEdge } from './edge.ts'
export * from './errors.ts'
export type { Residuals } from './feedback.ts'
export { SyncGroup, type SyncGroupInit, type SyncRejection } from './group.ts'
export type { AllReduceAlgorithm, ClusterOptions, ReduceLayout } from './layout.ts'
export type { AllReduceOptions } from './plan.ts'
export { syncGate } from './router.ts'
export type { RejectionKind } from './slot.ts'
export {
  type AllReduceChoice,
  chooseAllReduce,
  type DeadlineOptions,
  deadlineSeconds,
  predictAllReduceSeconds,
} from './time-model.ts'
// the training algorithms on top of SyncGroup (see README, "Training algorithms")
export * from './algorithms/constants.ts'
export { createSynchronizer, roundAtStep } from './algorithms/create.ts'
export * from './algorithms/errors.ts'
export { isReplicaEdge, replicaGate } from './algorithms/gate.ts'
export type { PeriodEvent, RoundEvent, RoundWhat, ScheduleEvent, SyncEvent } from './algorithms/events.ts'
export {
  type OuterOptimizerSpec,
  parseSynchronizerSpec,
  type SyncAlgorithm,
  type SynchronizerSpec,
  type SynchronizerSpecInput,
  synchronizerSpec,
} from './algorithms/spec.ts'
export type {
  Synchronizer,
  SynchronizerOptions,
  SynchronizerState,
  TrainingReplica,
} from './algorithms/synchronizer.ts'
// federated learning, server side, in process (see README, "Federated learning (core)")
export {
  aggregateUpdates,
  applyServerStep,
  FL_STRATEGIES,
  type FlContribution,
  type FlStrategyName,
} from './fl/aggregate.ts'
export { type CheckedDelta, checkUpdateContent, type UpdateCheck } from './fl/check-update.ts'
export * from './fl/errors.ts'
export { bcrsKeepRatios, type ClientBandwidth, type KeepRatioBudget } from './fl/keep-ratios.ts'
export type { FlClientInfo, FlClientRecord, FlClientStatus, FlRoundRecord } from './fl/round-record.ts'
export {
  FederatedRounds,
  type FederatedRoundsInit,
  type FlRoundPlan,
  type FlSubmitResult,
} from './fl/rounds.ts'
export { type SelectionOptions, selectClients } from './fl/selection.ts'
export { assignKeepRatios, type FlStrategy } from './fl/strategy.ts'
export {
  ENVELOPE_REJECTIONS,
  type EncodeUpdateOptions,
  encodeFlUpdate,
  type FlAssignment,
  type FlClientUpdate,
  type FlEncoding,
  type FlModel,
  type FlRejection,
  type FlRejectionKind,
  type FlUpdateTensor,
} from './fl/update.ts'
// federated rounds on the mesh: the wire (ctrl methods, tensor edges) and a client's side of it (docs/fl.md)
export {
  type FlClientEvent,
  type FlClientInit,
  type FlClientSummary,
  type FlTrainRound,
  measureUplink,
  runFlClient,
} from './fl/client.ts'
export { type FederationClientRow, type FederationStatus, federationStatus } from './fl/status.ts'
export {
  type ImageClientEvent,
  type ImageClientInit,
  type ImageClientOptions,
  type ImageClientTraining,
  imageClientTraining,
  runImageClient,
} from './fl/image-training.ts'
export {
  FEDERATION_NAME,
  type FlJoinAnswer,
  type FlSubmitAnswer,
  type FlTask,
  type FlTrainTask,
  flEdge,
  flJoinMethod,
  flLeaveMethod,
  flModelMethod,
  flSubmitMethod,
  flTaskMethod,
  MAX_FL_ROUNDS,
  MAX_TASK_WAIT_MS,
  parseFlEdge,
} from './fl/wire.ts'
