/**
 * @atoll/runtime for browsers (package.json's `browser` condition): the stage executor, SGD, data
 * streams over images in memory and the federated client's local trainer, the same modules Node runs,
 * on onnxruntime-web's backends (wasm, WebGPU). Every name here is exported by index.ts too, so code
 * written for browsers type-checks against either entry. What needs Node stays out: onnxruntime-node, the
 * AdamW worker pool (worker_threads), checkpoints and step logs (files), datasets read from npm
 * packages (the page brings its own data).
 *
 * @example
 * ```ts
 * import { IMAGE_NORMS, imageStream, localTrainer, webBackends, zooModel } from '@atoll/runtime'
 * const ort = await import('onnxruntime-web') // or 'onnxruntime-web/wasm': half the download, no WebGPU
 * const backend = await webBackends({ ort, wasmPaths: { wasm: wasmUrl } }).resolve('auto') // webgpu, else wasm
 * const model = zooModel('mlp', 0)
 * const input = model.graph.inputs.find((i) => i.name === model.dataInput)!
 * const stream = imageStream(images, IMAGE_NORMS['fashion-mnist'], input, { batchSize: 32, seed: 1 })
 * const { delta, losses } = await localTrainer(model, backend).train({
 *   steps: 20, schedule: { kind: 'constant', lr: 0.05 }, batch: (k) => stream.shuffled(k),
 * })
 * ```
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
export { type OrtWeb, type OrtWebOptions, ortWebProviders, webBackends } from './backend/ort-web.ts'
export type { DevicePresence } from './backend/presence.ts'
export { referenceBackend, referenceProvider } from './backend/reference.ts'
export { type BackendChoice, type BackendProvider, BackendRegistry } from './backend/registry.ts'
export { assignParameters } from './checkpoint/assign.ts'
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
export { bindSymbols, microBatchView, shapeSignature } from './executor/bindings.ts'
export { Pipeline, type PipelineStepOptions, type PipelineStepResult } from './executor/pipeline.ts'
export type { PipelineStage } from './executor/pipeline-stage.ts'
export { modelState } from './executor/state.ts'
export {
  type PipelineModelOptions,
  PRECISIONS,
  type Precision,
  parametersOf,
  pipelineModel,
  type StepReport,
  Trainer,
  type TrainerOptions,
} from './executor/trainer.ts'
export { clipGradNorm, globalGradNorm } from './optim/clip.ts'
export { DynamicLossScale, type LossScaleOptions } from './optim/loss-scale.ts'
export type { Optimizer, OptimizerState } from './optim/optimizer.ts'
export { createParameter, type Parameter, parameterTensor, zeroGrads } from './optim/parameter.ts'
export { type LrSchedule, lrAt, lrSchedule } from './optim/schedule.ts'
export { type SgdOptions, sgd } from './optim/sgd.ts'
export {
  type BatchStream,
  type BatchStreamOptions,
  batchStream,
  IMAGE_NORMS,
  imageNormalisation,
  imageStream,
} from './tasks/batch-stream.ts'
export { type EvalResult, evaluate } from './tasks/evaluate.ts'
export {
  type LocalRound,
  type LocalTrainer,
  type LocalTrainerOptions,
  type LocalUpdate,
  localTrainer,
} from './tasks/local-update.ts'
export { type TrainableModel, ZOO_MODELS, zooModel } from './tasks/model-source.ts'
export { lossTrend } from './tasks/loss-trend.ts'
