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
 *
 * Everything the browser entry exports is exported here through it; what follows is Node's alone.
 */
export * from './index.browser.ts'

export { DEFAULT_BACKEND, nodeBackends } from './backend/defaults.ts'

export { ortNodeProviders } from './backend/ort-node.ts'

export { cudaPresence, cudaProviderLibrary, type PresenceProbe, webgpuPresence } from './backend/presence.ts'
export {
  CUDA_PROVIDER_PACKAGE,
  installCudaProvider,
  type InstallCudaProviderOptions,
  type ProviderPackage,
} from './backend/cuda-provider.ts'
export {
  type CudaLibraries,
  type CudaLibrarySearch,
  findCudaLibraries,
  loadCudaLibraries,
} from './backend/cuda-libraries.ts'

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

export { stageGraphsOf } from './executor/from-partition.ts'
export { MonolithicTrainer } from './executor/monolithic.ts'
export { StepLoopTrainer, type StepLoopTrainerOptions } from './executor/step-loop.ts'

export { type PipelineOp, type PipelineSchedule, pipelineOrder, stageOrder } from './executor/schedule.ts'
export { evenCuts, splitContiguous } from './executor/split.ts'
export { StageExecutor, type StageExecutorOptions } from './executor/stage.ts'

export { type ActivationPolicy, buildStageGraphs, type StageGraphs } from './executor/stage-graphs.ts'
export { type StageRunnerOptions, stageRunner } from './executor/trainer.ts'

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
  combineGradNorm,
  gradPowerSums,
  scaleGrads,
} from './optim/clip.ts'

export { accumulateGrad } from './optim/parameter.ts'

export { checkBatch, readBatch } from './tasks/batch-file.ts'

export { DATASETS, type DataModel, type DataSourceOptions, openDataSource } from './tasks/data-source.ts'

export {
  CUDA_STEPS_PER_RUN,
  checkFitSettings,
  type FitOptions,
  type FitResult,
  fit,
  stepsPerRunFor,
} from './tasks/fit.ts'
export { computeGradients, type GradientsResult } from './tasks/grads.ts'

export { type ModelSource, onnxModel, trainableModel } from './tasks/model-source.ts'
export {
  makeOptimizer,
  needsSharedParameters,
  type OptimizerSpec,
  optimizerSpec,
} from './tasks/optimizer-spec.ts'
export { type Progress, type StepDone, stepProgress } from './tasks/progress.ts'

export { StepLog } from './tasks/step-log.ts'
export { weightsFile } from './tasks/weights-file.ts'
