export { causalSelfAttention } from './attention.ts'
export {
  avgPool2d,
  type BatchNormOptions,
  batchNorm2d,
  type Conv2dOptions,
  conv2d,
  globalAvgPool,
  maxPool2d,
  type PoolOptions,
} from './conv.ts'
export { LayerShapeError } from './errors.ts'
export { type Init, init, initTensor, Rng, seededRandom } from './init.ts'
export {
  embedding,
  features,
  flatten,
  gelu,
  layerNorm,
  type LinearOptions,
  linear,
  mlpBlock,
  relu,
  residual,
  rmsNorm,
  silu,
} from './layers.ts'
export {
  type AppendLossOptions,
  appendCrossEntropyLoss,
  type CrossEntropyOptions,
  crossEntropyLoss,
  LOSS_NAME,
  mse,
  mseLoss,
  softmaxCrossEntropy,
  TARGETS_NAME,
} from './loss.ts'
export { ModelBuilder, type ModelBuilderOptions, type Value } from './model.ts'
