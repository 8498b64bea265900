/**
 * @atoll/runtime — runs OP-DAG stages on onnxruntime and trains in one process: backends (a
 * registry with fall-through), the stage executor (one forward and one backward session per input
 * shape, stash or recompute, GPipe/1F1B micro-batches), optimizers with PyTorch semantics, LR
 * schedules, clipping, checkpoints, datasets, and the tasks behind `atoll grads|fit|eval`. Knows
 * nothing about peers or the network.
 *
 * @example
 * ```ts
 * import { gpt2 } from '@atoll/core'
 * import { adamw, nodeBackends, pipelineModel, Trainer } from '@atoll/runtime'
 * const backend = await nodeBackends().resolve('cpu') // or 'webgpu', 'gpu', 'auto'
 * const { params, pipeline } = pipelineModel(gpt2({ config: 'tiny' }).graph, { backend, stages: 2 })
 * const trainer = new Trainer({
 *   pipeline, params, optimizer: adamw(params), clipNorm: 1, microBatches: 4,
 *   schedule: { kind: 'cosine', lr: 3e-4, warmupSteps: 10, totalSteps: 1000 },
 * })
 * const { loss } = await trainer.trainStep({ input_ids, targets }) // int64 [batch, 32] each
 * ```
 *
 * Browsers get index.browser.ts (package.json's `browser` condition): the same executor, SGD, data
 * streams and tasks, on onnxruntime-web's backends (exported here too, for type-checking pages and
 * for Node runs of onnxruntime-web; they load no onnxruntime build themselves, the caller hands one in).
 */
export {
  type Backend,
  type BackendSession,
  type Feed,
  hostValue,
  isValue,
  type SessionModel,
  type SessionOptions,
  type Value,
} from './backend/backend.ts'
export { DEFAULT_BACKEND, nodeBackends } from './backend/defaults.ts'
export { referenceBackend, referenceProvider } from './backend/reference.ts'
export { ortNodeProviders } from './backend/ort-node.ts'
export { type OrtWeb, type OrtWebOptions, ortWebProviders, webBackends } from './backend/ort-web.ts'
export {
  cudaPresence,
  cudaProviderLibrary,
  type DevicePresence,
  type PresenceProbe,
  webgpuPresence,
} from './backend/presence.ts'
export { type BackendChoice, type BackendProvider, BackendRegistry } from './backend/registry.ts'
export { assignParameters } from './checkpoint/assign.ts'
export {
  checkpointBytes,
  checkpointParts,
  type CheckpointRecord,
  type LoadedCheckpoint,
  loadCheckpoint,
  restoreCheckpoint,
  type SaveOptions,
  saveCheckpoint,
  writeAtomically,
} from './checkpoint/checkpoint.ts'
export { bindSymbols, microBatchView, shapeSignature } from './executor/bindings.ts'
export { stageGraphsOf } from './executor/from-partition.ts'
export { MonolithicTrainer } from './executor/monolithic.ts'
export { Pipeline, type PipelineStepOptions, type PipelineStepResult } from './executor/pipeline.ts'
export type { PipelineStage } from './executor/pipeline-stage.ts'
export { type PipelineOp, type PipelineSchedule, pipelineOrder, stageOrder } from './executor/schedule.ts'
export { evenCuts, splitContiguous } from './executor/split.ts'
export { StageExecutor, type StageExecutorOptions } from './executor/stage.ts'
export { modelState } from './executor/state.ts'
export { type ActivationPolicy, buildStageGraphs, type StageGraphs } from './executor/stage-graphs.ts'
export {
  type PipelineModelOptions,
  parametersOf,
  pipelineModel,
  type StageRunnerOptions,
  type StepReport,
  stageRunner,
  Trainer,
  type TrainerOptions,
} from './executor/trainer.ts'
export {
  BackendUnavailableError,
  CheckpointError,
  DatasetError,
  DeviceAbsentError,
  DeviceSetupError,
  NonFiniteGradientError,
  OptimizerConfigError,
  OptimizerStateError,
  SessionError,
  TaskInputError,
} from './errors.ts'
export {
  type ImageBatch,
  type ImageSet,
  imageBatch,
  type Normalisation,
  heldOutImages,
  subsetImages,
  UNIT_RANGE,
} from './data/images.ts'
export {
  type DirichletOptions,
  dirichletPartition,
  epochOrder,
  indicesByClass,
  labelSkew,
  shard,
} from './data/partition.ts'
export { createRandom, dirichlet, mixSeed, permutation, type Random, shuffleInPlace } from './data/random.ts'
export {
  CORPORA,
  type CorpusName,
  IMAGE_DATASETS,
  type ImageDatasetName,
  loadCorpus,
  loadImageDataset,
} from './data/sources.ts'
export { loadTextDataset, type TextDataset, type TextDatasetOptions } from './data/text-dataset.ts'
export {
  splitTokens,
  type TokenBatch,
  type TokenSequences,
  tokenBatch,
  tokenSequences,
} from './data/text.ts'
export {
  byteTokenizer,
  gpt2Tokenizer,
  loadTokenizer,
  TOKENIZERS,
  type Tokenizer,
  type TokenizerName,
} from './data/tokenizer.ts'
export { type AdamWOptions, adamw } from './optim/adamw.ts'
export {
  type ClipOptions,
  clipCoefficient,
  clipGradNorm,
  combineGradNorm,
  globalGradNorm,
  gradPowerSums,
  scaleGrads,
} from './optim/clip.ts'
export type { Optimizer, OptimizerState } from './optim/optimizer.ts'
export {
  accumulateGrad,
  createParameter,
  type Parameter,
  parameterTensor,
  zeroGrads,
} from './optim/parameter.ts'
export { type LrSchedule, lrAt, lrSchedule } from './optim/schedule.ts'
export { type SgdOptions, sgd } from './optim/sgd.ts'
export { checkBatch, readBatch } from './tasks/batch-file.ts'
export {
  type BatchStream,
  type BatchStreamOptions,
  batchStream,
  IMAGE_NORMS,
  imageNormalisation,
  imageStream,
} from './tasks/batch-stream.ts'
export { DATASETS, type DataModel, type DataSourceOptions, openDataSource } from './tasks/data-source.ts'
export { type EvalResult, evaluate } from './tasks/evaluate.ts'
export { checkFitSettings, type FitOptions, type FitResult, fit } from './tasks/fit.ts'
export { computeGradients, type GradientsResult } from './tasks/grads.ts'
export {
  type LocalRound,
  type LocalTrainer,
  type LocalTrainerOptions,
  type LocalUpdate,
  localTrainer,
} from './tasks/local-update.ts'
export {
  type ModelSource,
  onnxModel,
  type TrainableModel,
  trainableModel,
  ZOO_MODELS,
  zooModel,
} from './tasks/model-source.ts'
export {
  makeOptimizer,
  needsSharedParameters,
  type OptimizerSpec,
  optimizerSpec,
} from './tasks/optimizer-spec.ts'
export { type Progress, type StepDone, stepProgress } from './tasks/progress.ts'
export { lossTrend } from './tasks/loss-trend.ts'
export { StepLog } from './tasks/step-log.ts'
export { weightsFile } from './tasks/weights-file.ts'
