/** LayerNormalization, BatchNormalization (inference, and training with batch statistics), Instance- and GroupNormalization. */
import { normAxis } from '../ops/attrs.ts'
import { numel } from '../tensor.ts'
import type { Kernel } from './kernel.ts'
import { broadcastIndex, fromF64, toF64 } from './values.ts'

/** Statistics of half-precision inputs are returned in float32 (stash_type), others in their own dtype. */
const statDtype = (d: string) => (d === 'float16' ? 'float32' : d) as 'float32' | 'float64'

/** Mean and 1/√(variance + ε) of v[from, from + count), with the biased variance every ONNX norm uses. */
function moments(
  v: Float64Array,
  from: number,
  count: number,
  eps: number,
): { mean: number; invStd: number } {
  let m = 0
  for (let i = 0; i < count; i++) m += v[from + i]
  m /= count
  let s = 0
  for (let i = 0; i < count; i++) s += (v[from + i] - m) ** 2
  return { mean: m, invStd: 1 / Math.sqrt(s / count + eps) }
}

const layerNorm: Kernel = (ctx) => {
  const x = ctx.input(0)
  const axis = normAxis(ctx.node, ctx.attrs.int('axis'), x.shape.length)
  const eps = ctx.attrs.float('epsilon')
  const inner = x.shape.slice(axis)
  const n = numel(inner)
  const rows = numel(x.shape.slice(0, axis))
  const v = toF64(x)
  const scale = toF64(ctx.input(1))
  const is = broadcastIndex(ctx.input(1).shape, inner)
  const bias = ctx.inputs[2] ? toF64(ctx.inputs[2]) : undefined
  const ib = ctx.inputs[2] ? broadcastIndex(ctx.inputs[2].shape, inner) : undefined
  const y = new Float64Array(v.length)
  const mean = new Float64Array(rows)
  const inv = new Float64Array(rows)
  for (let r = 0; r < rows; r++) {
    const o = r * n
    const { mean: m, invStd } = moments(v, o, n, eps)
    mean[r] = m
    inv[r] = invStd
    for (let i = 0; i < n; i++) {
      y[o + i] = (v[o + i] - m) * invStd * scale[is[i]] + (bias && ib ? bias[ib[i]] : 0)
    }
  }
  const statShape = x.shape.map((d, i) => (i < axis ? d : 1))
  const sd = statDtype(x.dtype)
  return [fromF64(x.dtype, x.shape, y), fromF64(sd, statShape, mean), fromF64(sd, statShape, inv)]
}

/** Whether this BatchNormalization computes batch statistics (training_mode from opset 14, extra outputs before). */
function isTraining(opset: number, outputs: string[], trainingMode: number): boolean {
  if (opset >= 14) return trainingMode === 1
  return outputs.slice(1).some((o) => o !== '')
}

const batchNorm: Kernel = (ctx) => {
  const x = ctx.input(0)
  const [scale, bias, runMean, runVar] = [1, 2, 3, 4].map((i) => toF64(ctx.input(i)))
  const eps = ctx.attrs.float('epsilon')
  const momentum = ctx.attrs.float('momentum')
  const [n, c] = x.shape
  const spatial = numel(x.shape.slice(2))
  const v = toF64(x)
  const training = isTraining(ctx.opset, ctx.node.outputs, ctx.attrs.int('training_mode'))
  const mean = training ? new Float64Array(c) : runMean
  const variance = training ? new Float64Array(c) : runVar
  const at = (b: number, ch: number, s: number) => (b * c + ch) * spatial + s
  if (training) {
    const count = n * spatial
    for (let ch = 0; ch < c; ch++) {
      let m = 0
      for (let b = 0; b < n; b++) for (let s = 0; s < spatial; s++) m += v[at(b, ch, s)]
      m /= count
      let q = 0
      for (let b = 0; b < n; b++) for (let s = 0; s < spatial; s++) q += (v[at(b, ch, s)] - m) ** 2
      mean[ch] = m
      variance[ch] = q / count
    }
  }
  const y = new Float64Array(v.length)
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const k = scale[ch] / Math.sqrt(variance[ch] + eps)
      for (let s = 0; s < spatial; s++) y[at(b, ch, s)] = (v[at(b, ch, s)] - mean[ch]) * k + bias[ch]
    }
  }
  const out = [fromF64(x.dtype, x.shape, y)]
  if (!training) return out
  const sd = ctx.input(3).dtype
  const running = (r: Float64Array, cur: Float64Array) =>
    fromF64(
      sd,
      [c],
      r.map((old, ch) => old * momentum + cur[ch] * (1 - momentum)),
    )
  out.push(running(runMean, mean), running(runVar, variance))
  // opset < 14 also returns the batch statistics themselves (saved_mean, saved_var)
  if (ctx.opset < 14) out.push(fromF64(sd, [c], mean), fromF64(sd, [c], variance))
  return out
}

/**
 * Normalises each (n, group) block of channels × spatial, then applies scale and bias per channel
 * (InstanceNormalization; GroupNormalization from opset 21) or per group (GroupNormalization 18).
 */
const groupNorm =
  (instance: boolean): Kernel =>
  (ctx) => {
    const x = ctx.input(0)
    const [n, c] = x.shape
    const groups = instance ? c : ctx.attrs.int('num_groups')
    const scale = toF64(ctx.input(1))
    const bias = toF64(ctx.input(2))
    const perChannel = scale.length === c
    const eps = ctx.attrs.float('epsilon')
    const spatial = numel(x.shape.slice(2))
    const perGroup = c / groups
    const block = perGroup * spatial
    const v = toF64(x)
    const y = new Float64Array(v.length)
    for (let b = 0; b < n * groups; b++) {
      const o = b * block
      const g = b % groups
      const { mean, invStd } = moments(v, o, block, eps)
      for (let i = 0; i < block; i++) {
        const k = perChannel ? g * perGroup + Math.floor(i / spatial) : g
        y[o + i] = (v[o + i] - mean) * invStd * scale[k] + bias[k]
      }
    }
    return [fromF64(x.dtype, x.shape, y)]
  }

export const NORM_KERNELS: Record<string, Kernel> = {
  LayerNormalization: layerNorm,
  BatchNormalization: batchNorm,
  InstanceNormalization: groupNorm(true),
  GroupNormalization: groupNorm(false),
}
