/**
 * @atoll/peer: the peer daemon behind `atoll peer`. It keeps a persistent identity in its data
 * directory, measures what it can compute (capability report), joins the mesh through bootstrap peers
 * and peer exchange, probes its links, serves `/atoll/tensor/1`, `/atoll/probe/1` and `/atoll/ctrl/1`,
 * logs JSON lines (pino) and exposes Prometheus metrics (prom-client). It reads job files
 * (`readJobFile`: a typed, defaulted `JobSpec`, or an error naming the field) and trains a job on
 * one peer exactly as `atoll fit` would (`singlePeerRun`).
 *
 * @example
 * ```ts
 * import { PeerDaemon, resolveConfig } from '@atoll/peer'
 * const daemon = await PeerDaemon.start(resolveConfig({ dataDir: '/tmp/p1', listen: ['/ip4/127.0.0.1/tcp/0'] }))
 * console.log(daemon.mesh.peerId, daemon.addresses, daemon.capabilities.flops)
 * await daemon.stop()
 * ```
 */
export { type Calibration, calibrate, matmulModel } from './calibrate.ts'
export { chooseDevice, DEVICES, type DeviceChoice, detectDevices } from './capabilities.ts'
export {
  DEFAULT_LISTEN,
  defaultDataDir,
  type PeerConfig,
  type PeerOptions,
  peerIdText,
  resolveConfig,
} from './config.ts'
export { createLogger, ECHO_JOB, PeerDaemon } from './daemon.ts'
export { DaemonStateError, DeviceUnavailableError, JobFileError, PeerConfigError } from './errors.ts'
export {
  datasetName,
  type JobTrainingSettings,
  jobModelSource,
  jobTrainingSettings,
  type SinglePeerRun,
  singlePeerRun,
} from './job/single-peer.ts'
export {
  type CompressionSpec,
  type DataSpec,
  type JobSpec,
  type OnnxModelSpec,
  type PlacementSpec,
  parseJob,
  readJobFile,
  type ZooModelSpec,
} from './job/spec.ts'
export { JOB_NAME } from './job/spec-schema.ts'
export { type CoordinatorInit, JobCoordinator, type JobPeer, type StepResult } from './job/coordinator.ts'
export {
  JobAbortedError,
  JobAssignmentError,
  JobStateError,
  StepFailedError,
  WorkerLostError,
} from './job/errors.ts'
export { type AllowList, JobWorker, type JobWorkerInit } from './job/worker.ts'
export { gatherProfiles, type MeshProfile, type MemberProfile } from './job/profiles.ts'
export { membershipLine, type TrainEvent, type TrainInit, type TrainSummary, trainJob } from './job/train.ts'
export {
  escapeHtml,
  REPORT_FILE,
  type ReportExtra,
  rateText,
  reportHtml,
  writeReport,
} from './job/report.ts'
export { trainEventLine } from './job/event-log.ts'
export { PeerMetrics } from './metrics.ts'
export {
  type CapabilityReport,
  capabilitiesMethod,
  type DeviceInfo,
  type PeerSummary,
  type PeersAnswer,
  peersMethod,
} from './rpc.ts'
export { daemonAddresses, queryPeers } from './query.ts'
export { type DaemonState, readDaemonState, STATE_FILE } from './state.ts'
// federated learning on the mesh: `atoll fl serve` and `atoll fl join` (docs/fl.md)
export { FederationBoard, type FederationBoardInit } from './fl/board.ts'
export { FlCheckpointError, FlRequestError, FlSpecError } from './fl/errors.ts'
export {
  type ClientShardOptions,
  clientShard,
  type JoinFederationInit,
  joinFederation,
  type NodeClientEvent,
} from './fl/join.ts'
export { METRICS_FILE, type ServeFederationInit, serveFederation } from './fl/serve.ts'
export {
  type FlEvaluation,
  type FlRoundMetrics,
  FlServer,
  type FlServerEvent,
  type FlServerInit,
} from './fl/server.ts'
export { FL_MODELS, type FlSpec, parseFlSpec, readFlFile } from './fl/spec.ts'
