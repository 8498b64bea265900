/**
 * Every gradient rule, registered explicitly (no registration by import side effect): adding an op
 * means adding its file and one line here.
 */
import { absGrad } from './Abs.grad.ts'
import { addGrad } from './Add.grad.ts'
import { averagePoolGrad } from './AveragePool.grad.ts'
import { batchNormalizationGrad } from './BatchNormalization.grad.ts'
import { castGrad } from './Cast.grad.ts'
import { clipGrad } from './Clip.grad.ts'
import { concatGrad } from './Concat.grad.ts'
import { convGrad } from './Conv.grad.ts'
import { divGrad } from './Div.grad.ts'
import { dropoutGrad } from './Dropout.grad.ts'
import { erfGrad } from './Erf.grad.ts'
import { expGrad } from './Exp.grad.ts'
import { expandGrad } from './Expand.grad.ts'
import { flattenGrad } from './Flatten.grad.ts'
import { gatherGrad } from './Gather.grad.ts'
import { gemmGrad } from './Gemm.grad.ts'
import { globalAveragePoolGrad } from './GlobalAveragePool.grad.ts'
import { identityGrad } from './Identity.grad.ts'
import { layerNormalizationGrad } from './LayerNormalization.grad.ts'
import { leakyReluGrad } from './LeakyRelu.grad.ts'
import { logGrad } from './Log.grad.ts'
import { logSoftmaxGrad } from './LogSoftmax.grad.ts'
import { matMulGrad } from './MatMul.grad.ts'
import { maxPoolGrad } from './MaxPool.grad.ts'
import { mulGrad } from './Mul.grad.ts'
import { negGrad } from './Neg.grad.ts'
import { negativeLogLikelihoodLossGrad } from './NegativeLogLikelihoodLoss.grad.ts'
import { powGrad } from './Pow.grad.ts'
import { reciprocalGrad } from './Reciprocal.grad.ts'
import { reduceMeanGrad } from './ReduceMean.grad.ts'
import { reduceSumGrad } from './ReduceSum.grad.ts'
import { reluGrad } from './Relu.grad.ts'
import { reshapeGrad } from './Reshape.grad.ts'
import { sigmoidGrad } from './Sigmoid.grad.ts'
import { sliceGrad } from './Slice.grad.ts'
import { softmaxGrad } from './Softmax.grad.ts'
import { softmaxCrossEntropyLossGrad } from './SoftmaxCrossEntropyLoss.grad.ts'
import { softplusGrad } from './Softplus.grad.ts'
import { splitGrad } from './Split.grad.ts'
import { sqrtGrad } from './Sqrt.grad.ts'
import { squeezeGrad } from './Squeeze.grad.ts'
import { subGrad } from './Sub.grad.ts'
import { sumGrad } from './Sum.grad.ts'
import { tanhGrad } from './Tanh.grad.ts'
import { transposeGrad } from './Transpose.grad.ts'
import { triluGrad } from './Trilu.grad.ts'
import { unsqueezeGrad } from './Unsqueeze.grad.ts'
import { whereGrad } from './Where.grad.ts'
import type { GradRule } from '../rule.ts'

export const GRADIENT_RULES: readonly GradRule[] = [
  absGrad,
  addGrad,
  averagePoolGrad,
  batchNormalizationGrad,
  castGrad,
  clipGrad,
  concatGrad,
  convGrad,
  divGrad,
  dropoutGrad,
  erfGrad,
  expGrad,
  expandGrad,
  flattenGrad,
  gatherGrad,
  gemmGrad,
  globalAveragePoolGrad,
  identityGrad,
  layerNormalizationGrad,
  leakyReluGrad,
  logGrad,
  logSoftmaxGrad,
  matMulGrad,
  maxPoolGrad,
  mulGrad,
  negGrad,
  negativeLogLikelihoodLossGrad,
  powGrad,
  reciprocalGrad,
  reduceMeanGrad,
  reduceSumGrad,
  reluGrad,
  reshapeGrad,
  sigmoidGrad,
  sliceGrad,
  softmaxGrad,
  softmaxCrossEntropyLossGrad,
  softplusGrad,
  splitGrad,
  sqrtGrad,
  squeezeGrad,
  subGrad,
  sumGrad,
  tanhGrad,
  transposeGrad,
  triluGrad,
  unsqueezeGrad,
  whereGrad,
]

/** Rules by op type. */
export const RULES_BY_OP: ReadonlyMap<string, GradRule> = new Map(GRADIENT_RULES.map((r) => [r.opType, r]))
