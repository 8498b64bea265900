/**
 * Every gradient rule, registered explicitly (no registration by import side effect): adding an op
 * means adding its file and one line here.
 */
import { absGrad } from './Abs.grad.ts'
import { acosGrad } from './Acos.grad.ts'
import { addGrad } from './Add.grad.ts'
import { asinGrad } from './Asin.grad.ts'
import { atanGrad } from './Atan.grad.ts'
import { averagePoolGrad } from './AveragePool.grad.ts'
import { batchNormalizationGrad } from './BatchNormalization.grad.ts'
import { castGrad } from './Cast.grad.ts'
import { castLikeGrad } from './CastLike.grad.ts'
import { celuGrad } from './Celu.grad.ts'
import { clipGrad } from './Clip.grad.ts'
import { concatGrad } from './Concat.grad.ts'
import { convGrad } from './Conv.grad.ts'
import { convTransposeGrad } from './ConvTranspose.grad.ts'
import { cosGrad } from './Cos.grad.ts'
import { coshGrad } from './Cosh.grad.ts'
import { cumSumGrad } from './CumSum.grad.ts'
import { divGrad } from './Div.grad.ts'
import { dropoutGrad } from './Dropout.grad.ts'
import { einsumGrad } from './Einsum.grad.ts'
import { eluGrad } from './Elu.grad.ts'
import { erfGrad } from './Erf.grad.ts'
import { expGrad } from './Exp.grad.ts'
import { expandGrad } from './Expand.grad.ts'
import { flattenGrad } from './Flatten.grad.ts'
import { gatherGrad } from './Gather.grad.ts'
import { gatherElementsGrad } from './GatherElements.grad.ts'
import { gatherNDGrad } from './GatherND.grad.ts'
import { geluGrad } from './Gelu.grad.ts'
import { gemmGrad } from './Gemm.grad.ts'
import { globalAveragePoolGrad } from './GlobalAveragePool.grad.ts'
import { globalMaxPoolGrad } from './GlobalMaxPool.grad.ts'
import { groupNormalizationGrad } from './GroupNormalization.grad.ts'
import { hardSigmoidGrad } from './HardSigmoid.grad.ts'
import { hardSwishGrad } from './HardSwish.grad.ts'
import { identityGrad } from './Identity.grad.ts'
import { instanceNormalizationGrad } from './InstanceNormalization.grad.ts'
import { layerNormalizationGrad } from './LayerNormalization.grad.ts'
import { leakyReluGrad } from './LeakyRelu.grad.ts'
import { logGrad } from './Log.grad.ts'
import { logSoftmaxGrad } from './LogSoftmax.grad.ts'
import { matMulGrad } from './MatMul.grad.ts'
import { maxGrad } from './Max.grad.ts'
import { maxPoolGrad } from './MaxPool.grad.ts'
import { meanGrad } from './Mean.grad.ts'
import { minGrad } from './Min.grad.ts'
import { mishGrad } from './Mish.grad.ts'
import { mulGrad } from './Mul.grad.ts'
import { negGrad } from './Neg.grad.ts'
import { negativeLogLikelihoodLossGrad } from './NegativeLogLikelihoodLoss.grad.ts'
import { pReluGrad } from './PRelu.grad.ts'
import { padGrad } from './Pad.grad.ts'
import { powGrad } from './Pow.grad.ts'
import { reciprocalGrad } from './Reciprocal.grad.ts'
import { reduceL1Grad } from './ReduceL1.grad.ts'
import { reduceL2Grad } from './ReduceL2.grad.ts'
import { reduceLogSumExpGrad } from './ReduceLogSumExp.grad.ts'
import { reduceMaxGrad } from './ReduceMax.grad.ts'
import { reduceMeanGrad } from './ReduceMean.grad.ts'
import { reduceMinGrad } from './ReduceMin.grad.ts'
import { reduceProdGrad } from './ReduceProd.grad.ts'
import { reduceSumGrad } from './ReduceSum.grad.ts'
import { reduceSumSquareGrad } from './ReduceSumSquare.grad.ts'
import { reluGrad } from './Relu.grad.ts'
import { reshapeGrad } from './Reshape.grad.ts'
import { resizeGrad } from './Resize.grad.ts'
import { scatterElementsGrad } from './ScatterElements.grad.ts'
import { scatterNDGrad } from './ScatterND.grad.ts'
import { seluGrad } from './Selu.grad.ts'
import { sigmoidGrad } from './Sigmoid.grad.ts'
import { sinGrad } from './Sin.grad.ts'
import { sinhGrad } from './Sinh.grad.ts'
import { sliceGrad } from './Slice.grad.ts'
import { softmaxGrad } from './Softmax.grad.ts'
import { softmaxCrossEntropyLossGrad } from './SoftmaxCrossEntropyLoss.grad.ts'
import { softplusGrad } from './Softplus.grad.ts'
import { softsignGrad } from './Softsign.grad.ts'
import { splitGrad } from './Split.grad.ts'
import { sqrtGrad } from './Sqrt.grad.ts'
import { squeezeGrad } from './Squeeze.grad.ts'
import { subGrad } from './Sub.grad.ts'
import { sumGrad } from './Sum.grad.ts'
import { tanGrad } from './Tan.grad.ts'
import { tanhGrad } from './Tanh.grad.ts'
import { thresholdedReluGrad } from './ThresholdedRelu.grad.ts'
import { tileGrad } from './Tile.grad.ts'
import { topKGrad } from './TopK.grad.ts'
import { transposeGrad } from './Transpose.grad.ts'
import { triluGrad } from './Trilu.grad.ts'
import { unsqueezeGrad } from './Unsqueeze.grad.ts'
import { whereGrad } from './Where.grad.ts'
import type { GradRule } from '../rule.ts'

export const GRADIENT_RULES: readonly GradRule[] = [
  absGrad,
  acosGrad,
  addGrad,
  asinGrad,
  atanGrad,
  averagePoolGrad,
  batchNormalizationGrad,
  castGrad,
  castLikeGrad,
  celuGrad,
  clipGrad,
  concatGrad,
  convGrad,
  convTransposeGrad,
  cosGrad,
  coshGrad,
  cumSumGrad,
  divGrad,
  dropoutGrad,
  einsumGrad,
  eluGrad,
  erfGrad,
  expGrad,
  expandGrad,
  flattenGrad,
  gatherGrad,
  gatherElementsGrad,
  gatherNDGrad,
  geluGrad,
  gemmGrad,
  globalAveragePoolGrad,
  globalMaxPoolGrad,
  groupNormalizationGrad,
  hardSigmoidGrad,
  hardSwishGrad,
  identityGrad,
  instanceNormalizationGrad,
  layerNormalizationGrad,
  leakyReluGrad,
  logGrad,
  logSoftmaxGrad,
  matMulGrad,
  maxGrad,
  maxPoolGrad,
  meanGrad,
  minGrad,
  mishGrad,
  mulGrad,
  negGrad,
  negativeLogLikelihoodLossGrad,
  pReluGrad,
  padGrad,
  powGrad,
  reciprocalGrad,
  reduceL1Grad,
  reduceL2Grad,
  reduceLogSumExpGrad,
  reduceMaxGrad,
  reduceMeanGrad,
  reduceMinGrad,
  reduceProdGrad,
  reduceSumGrad,
  reduceSumSquareGrad,
  reluGrad,
  reshapeGrad,
  resizeGrad,
  scatterElementsGrad,
  scatterNDGrad,
  seluGrad,
  sigmoidGrad,
  sinGrad,
  sinhGrad,
  sliceGrad,
  softmaxGrad,
  softmaxCrossEntropyLossGrad,
  softplusGrad,
  softsignGrad,
  splitGrad,
  sqrtGrad,
  squeezeGrad,
  subGrad,
  sumGrad,
  tanGrad,
  tanhGrad,
  thresholdedReluGrad,
  tileGrad,
  topKGrad,
  transposeGrad,
  triluGrad,
  unsqueezeGrad,
  whereGrad,
]

/** Rules by op type. */
export const RULES_BY_OP: ReadonlyMap<string, GradRule> = new Map(GRADIENT_RULES.map((r) => [r.opType, r]))
