/** Dense layers, embeddings, normalisations and activations, as standard ONNX ops. */
import { attr } from '../graph/types.ts'
import { LayerShapeError } from './errors.ts'
import { init } from './init.ts'
import type { ModelBuilder, Value } from './model.ts'

/** The static size of a value's last axis (features), or a LayerShapeError naming the layer. */
export function features(layer: string, input: Value): number {
  const d = input.shape[input.shape.length - 1]
  if (typeof d !== 'number')
    throw new LayerShapeError(layer, `needs a static last axis, got [${input.shape}]`)
  return d
}

export interface LinearOptions {
  bias?: boolean
}

/**
 * y = x Wᵀ + b with W stored [out, in] as in PyTorch (so weights load by name). A 2-D input uses one
 * Gemm(transB=1); higher ranks use MatMul with Transpose(W).
 */
export function linear(model: ModelBuilder, input: Value, out: number, options: LinearOptions = {}): Value {
  const inF = features('Linear', input)
  const w = model.param('weight', [out, inF], init.fanIn(inF))
  const b = options.bias === false ? undefined : model.param('bias', [out], init.fanIn(inF))
  const shape = [...input.shape.slice(0, -1), out]
  if (input.shape.length === 2) {
    return model.op('Gemm', b === undefined ? [input, w] : [input, w, b], shape, { transB: 1 })
  }
  const y = model.op('MatMul', [input, model.op('Transpose', [w], [inF, out], { perm: [1, 0] })], shape)
  return b === undefined ? y : model.op('Add', [y, b], shape)
}

/** Gather rows of a [num, dim] table; PyTorch initialises with N(0, 1), GPT-2 with N(0, 0.02). */
export function embedding(model: ModelBuilder, ids: Value, num: number, dim: number, std = 1): Value {
  const w = model.param('weight', [num, dim], init.normal(std))
  return model.op('Gather', [w, ids], [...ids.shape, dim], {}, 'float32')
}

/** LayerNormalization over the last axis (opset 17), scale 1 and bias 0. */
export function layerNorm(model: ModelBuilder, input: Value, eps = 1e-5): Value {
  const d = features('LayerNorm', input)
  const scale = model.param('weight', [d], init.ones())
  const bias = model.param('bias', [d], init.zeros())
  return model.op('LayerNormalization', [input, scale, bias], input.shape, {
    axis: -1,
    epsilon: attr.float(eps),
  })
}

/** RMSNorm (ONNX has no operator before opset 23): x / sqrt(mean(x²) + eps) · scale. */
export function rmsNorm(model: ModelBuilder, input: Value, eps = 1e-6): Value {
  const d = features('RMSNorm', input)
  const scale = model.param('weight', [d], init.ones())
  const keep = [...input.shape.slice(0, -1), 1]
  const sq = model.op('Mul', [input, input], input.shape)
  const ms = model.op('ReduceMean', [sq, model.ints([-1], 'axes')], keep, { keepdims: 1 })
  const rms = model.op('Sqrt', [model.op('Add', [ms, model.scalar(eps, 'eps')], keep)], keep)
  return model.op('Mul', [model.op('Div', [input, rms], input.shape), scale], input.shape)
}

/**
 * GELU. 'none' is the exact form x·Φ(x) = 0.5·x·(1 + erf(x/√2)); 'tanh' is GPT-2's approximation
 * 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). Decomposed: ONNX's Gelu op arrives only in opset 20.
 */
export function gelu(model: ModelBuilder, input: Value, approximate: 'none' | 'tanh' = 'none'): Value {
  const s = input.shape
  let inner: Value
  if (approximate === 'none') {
    inner = model.op('Erf', [model.op('Div', [input, model.scalar(Math.SQRT2, 'sqrt2')], s)], s)
  } else {
    const cube = model.op('Mul', [model.op('Mul', [input, input], s), input], s)
    const sum = model.op('Add', [input, model.op('Mul', [cube, model.scalar(0.044715, 'c')], s)], s)
    inner = model.op('Tanh', [model.op('Mul', [sum, model.scalar(Math.sqrt(2 / Math.PI), 'sqrt2_pi')], s)], s)
  }
  const onePlus = model.op('Add', [inner, model.scalar(1, 'one')], s)
  return model.op('Mul', [model.op('Mul', [input, model.scalar(0.5, 'half')], s), onePlus], s)
}

export function relu(model: ModelBuilder, input: Value): Value {
  return model.op('Relu', [input], input.shape)
}

/** SiLU (swish): x · sigmoid(x). */
export function silu(model: ModelBuilder, input: Value): Value {
  return model.op('Mul', [input, model.op('Sigmoid', [input], input.shape)], input.shape)
}

/** x + f(x): the residual connection. */
export function residual(model: ModelBuilder, input: Value, block: (x: Value) => Value): Value {
  return model.op('Add', [input, block(input)], input.shape)
}

/** Linear → activation → Linear, in scopes `c_fc` and `c_proj` (GPT-2's names). */
export function mlpBlock(
  model: ModelBuilder,
  input: Value,
  hidden: number,
  activation: (x: Value) => Value = (v) => gelu(model, v, 'tanh'),
): Value {
  const d = features('MLP', input)
  const h = activation(model.scope('c_fc', () => linear(model, input, hidden)))
  return model.scope('c_proj', () => linear(model, h, d))
}

/** Flatten to [N, rest] (ONNX Flatten, axis 1). */
export function flatten(model: ModelBuilder, input: Value): Value {
  const rest = input.shape.slice(1)
  const n = rest.every((d) => typeof d === 'number') ? (rest as number[]).reduce((a, b) => a * b, 1) : 'flat'
  return model.op('Flatten', [input], [input.shape[0], n], { axis: 1 })
}
