/** SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss over [N, C, d…] scores and [N, d…] labels. */
import { numel, type Tensor } from '../tensor.ts'
import type { Kernel, KernelContext } from './kernel.ts'
import { fromF64, ints, toF64 } from './values.ts'

/** The loss from log-probabilities `logp` ([N, C, d…] as numbers): per element, or reduced. */
function nll(
  ctx: KernelContext,
  logp: Float64Array,
  shape: readonly number[],
  target: Tensor,
  weight?: Tensor,
): Tensor {
  const [n, c] = shape
  const inner = numel(shape.slice(2))
  const labels = ints(target)
  const w = weight ? toF64(weight) : undefined
  const ignore = ctx.attrs.optInt('ignore_index')
  const loss = new Float64Array(n * inner)
  let weightSum = 0
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < inner; i++) {
      const t = labels[b * inner + i]
      if (t === ignore) continue
      if (!(t >= 0 && t < c)) ctx.fail(`label ${t} is out of range for ${c} classes`)
      const wt = w ? w[t] : 1
      loss[b * inner + i] = -logp[(b * c + t) * inner + i] * wt
      weightSum += wt
    }
  }
  const reduction = ctx.attrs.string('reduction')
  const dtype = ctx.input(0).dtype
  if (reduction === 'none') return fromF64(dtype, [n, ...shape.slice(2)], loss)
  const total = loss.reduce((a, b) => a + b, 0)
  if (reduction === 'sum') return fromF64(dtype, [], [total])
  if (reduction !== 'mean') ctx.fail(`reduction '${reduction}' is not none, sum or mean`)
  return fromF64(dtype, [], [total / weightSum])
}

const softmaxCrossEntropy: Kernel = (ctx) => {
  const x = ctx.input(0)
  const [n, c] = x.shape
  const inner = numel(x.shape.slice(2))
  const v = toF64(x)
  const logp = new Float64Array(v.length)
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < inner; i++) {
      const at = (k: number) => (b * c + k) * inner + i
      let max = -Infinity
      for (let k = 0; k < c; k++) max = Math.max(max, v[at(k)])
      let sum = 0
      for (let k = 0; k < c; k++) sum += Math.exp(v[at(k)] - max)
      const lse = max + Math.log(sum)
      for (let k = 0; k < c; k++) logp[at(k)] = v[at(k)] - lse
    }
  }
  return [nll(ctx, logp, x.shape, ctx.input(1), ctx.inputs[2]), fromF64(x.dtype, x.shape, logp)]
}

export const LOSS_KERNELS: Record<string, Kernel> = {
  SoftmaxCrossEntropyLoss: softmaxCrossEntropy,
  NegativeLogLikelihoodLoss: (ctx) => [
    nll(ctx, toF64(ctx.input(0)), ctx.input(0).shape, ctx.input(1), ctx.inputs[2]),
  ],
}
