/** Convolution, batch normalisation and pooling over NCHW images. */
import { attr, type Dim } from '../graph/types.ts'
import { tensor } from '../tensor.ts'
import { LayerShapeError } from './errors.ts'
import { init } from './init.ts'
import type { ModelBuilder, Value } from './model.ts'

function channels(layer: string, x: Value): number {
  const c = x.shape[1]
  if (x.shape.length !== 4 || typeof c !== 'number') {
    throw new LayerShapeError(layer, `needs NCHW input with static channels, got [${x.shape}]`)
  }
  return c
}

/** Output size of a window over `size`: ⌊(size + 2·pad − dilation·(k−1) − 1) / stride⌋ + 1. */
function windowOut(size: Dim, k: number, stride: number, pad: number, dilation = 1): Dim {
  if (typeof size !== 'number') return `${size}_w`
  return Math.floor((size + 2 * pad - dilation * (k - 1) - 1) / stride) + 1
}

export interface Conv2dOptions {
  stride?: number
  padding?: number
  groups?: number
  dilation?: number
  bias?: boolean
}

/** Conv2d with a square kernel; weight [out, in/groups, k, k] initialised like PyTorch's default. */
export function conv2d(
  model: ModelBuilder,
  input: Value,
  out: number,
  kernel: number,
  options: Conv2dOptions = {},
): Value {
  const cin = channels('Conv2d', input)
  const { stride = 1, padding = 0, groups = 1, dilation = 1 } = options
  if (cin % groups !== 0 || out % groups !== 0) {
    throw new LayerShapeError('Conv2d', `groups=${groups} must divide in=${cin} and out=${out} channels`)
  }
  const fanIn = (cin / groups) * kernel * kernel
  const w = model.param('weight', [out, cin / groups, kernel, kernel], init.fanIn(fanIn))
  const inputs = [input, w]
  if (options.bias !== false) inputs.push(model.param('bias', [out], init.fanIn(fanIn)))
  const [n, , h, wd] = input.shape
  const shape = [
    n,
    out,
    windowOut(h, kernel, stride, padding, dilation),
    windowOut(wd, kernel, stride, padding, dilation),
  ]
  return model.op('Conv', inputs, shape, {
    kernel_shape: [kernel, kernel],
    strides: [stride, stride],
    pads: [padding, padding, padding, padding],
    dilations: [dilation, dilation],
    group: groups,
  })
}

export interface BatchNormOptions {
  /** normalise with the batch's statistics (true) or the running ones (false); default true */
  training?: boolean
  eps?: number
  momentum?: number
}

/**
 * BatchNorm2d: weight 1, bias 0 (trainable); running mean 0 and variance 1 (state, not trained).
 * Training mode uses ONNX BatchNormalization's training_mode=1 (batch statistics).
 */
export function batchNorm2d(model: ModelBuilder, input: Value, options: BatchNormOptions = {}): Value {
  const c = channels('BatchNorm2d', input)
  const scale = model.param('weight', [c], init.ones())
  const bias = model.param('bias', [c], init.zeros())
  const mean = model.buffer('running_mean', tensor('float32', [c], new Float32Array(c)))
  const variance = model.buffer('running_var', tensor('float32', [c], new Float32Array(c).fill(1)))
  const training = options.training !== false
  // ONNX momentum weighs the old running value: PyTorch's momentum 0.1 is ONNX's 0.9
  const attrs = {
    epsilon: attr.float(options.eps ?? 1e-5),
    momentum: attr.float(1 - (options.momentum ?? 0.1)),
    training_mode: training ? 1 : 0,
  }
  const inputs = [input.name, scale.name, bias.name, mean.name, variance.name]
  // training mode declares the updated running statistics as outputs (ONNX requires all three):
  // stateUpdates pairs them with the buffers, which a runtime overwrites after each forward
  const [y] = model.builder.node('BatchNormalization', inputs, attrs, { outputs: training ? 3 : 1 })
  model.graph.valueInfo.set(y, { name: y, dtype: input.dtype, shape: [...input.shape] })
  return { name: y, dtype: input.dtype, shape: [...input.shape] }
}

export interface PoolOptions {
  stride?: number
  padding?: number
}

function pool(m: ModelBuilder, opType: string, x: Value, k: number, o: PoolOptions): Value {
  channels(opType, x)
  const stride = o.stride ?? k
  const padding = o.padding ?? 0
  const [n, c, h, w] = x.shape
  const attrs: Record<string, number[] | number> = {
    kernel_shape: [k, k],
    strides: [stride, stride],
    pads: [padding, padding, padding, padding],
  }
  // PyTorch's AvgPool2d counts padded zeros by default (count_include_pad=True)
  if (opType === 'AveragePool') attrs.count_include_pad = 1
  return m.op(opType, [x], [n, c, windowOut(h, k, stride, padding), windowOut(w, k, stride, padding)], attrs)
}

export function maxPool2d(
  model: ModelBuilder,
  input: Value,
  kernel: number,
  options: PoolOptions = {},
): Value {
  return pool(model, 'MaxPool', input, kernel, options)
}

export function avgPool2d(
  model: ModelBuilder,
  input: Value,
  kernel: number,
  options: PoolOptions = {},
): Value {
  return pool(model, 'AveragePool', input, kernel, options)
}

/** Mean over H and W: [N, C, H, W] → [N, C, 1, 1]. */
export function globalAvgPool(model: ModelBuilder, input: Value): Value {
  channels('GlobalAveragePool', input)
  return model.op('GlobalAveragePool', [input], [input.shape[0], input.shape[1], 1, 1])
}
