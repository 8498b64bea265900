/** Dense layers, embeddings, normalisations and activations, as standard ONNX ops. */
import { attr } from '../graph.ts'
import { LayerShapeError } from './errors.ts'
import { init } from './init.ts'
import type { ModelBuilder, Value } from './model.ts'

/** The static size of a value's last axis (features), or a LayerShapeError naming the layer. */
export function features(layer: string, x: Value): number {
  const d = x.shape[x.shape.length - 1]
  if (typeof d !== 'number') throw new LayerShapeError(layer, `needs a static last axis, got [${x.shape}]`)
  return d
}

export interface LinearOptions {
  bias?: boolean
}

/**
 * y = x Wᵀ + b with W stored [out, in] as in PyTorch (so weights load by name). A 2-D input uses one
 * Gemm(transB=1); higher ranks use MatMul with Transpose(W).
 */
export function linear(m: ModelBuilder, x: Value, out: number, options: LinearOptions = {}): Value {
  const inF = features('Linear', x)
  const w = m.param('weight', [out, inF], init.fanIn(inF))
  const b = options.bias === false ? undefined : m.param('bias', [out], init.fanIn(inF))
  const shape = [...x.shape.slice(0, -1), out]
  if (x.shape.length === 2) {
    return m.op('Gemm', b === undefined ? [x, w] : [x, w, b], shape, { transB: 1 })
  }
  const y = m.op('MatMul', [x, m.op('Transpose', [w], [inF, out], { perm: [1, 0] })], shape)
  return b === undefined ? y : m.op('Add', [y, b], shape)
}

/** Gather rows of a [num, dim] table; PyTorch initialises with N(0, 1), GPT-2 with N(0, 0.02). */
export function embedding(m: ModelBuilder, ids: Value, num: number, dim: number, std = 1): Value {
  const w = m.param('weight', [num, dim], init.normal(std))
  return m.op('Gather', [w, ids], [...ids.shape, dim], {}, 'float32')
}

/** LayerNormalization over the last axis (opset 17), scale 1 and bias 0. */
export function layerNorm(m: ModelBuilder, x: Value, eps = 1e-5): Value {
  const d = features('LayerNorm', x)
  const scale = m.param('weight', [d], init.ones())
  const bias = m.param('bias', [d], init.zeros())
  return m.op('LayerNormalization', [x, scale, bias], x.shape, { axis: -1, epsilon: attr.float(eps) })
}

/** RMSNorm (ONNX has no operator before opset 23): x / sqrt(mean(x²) + eps) · scale. */
export function rmsNorm(m: ModelBuilder, x: Value, eps = 1e-6): Value {
  const d = features('RMSNorm', x)
  const scale = m.param('weight', [d], init.ones())
  const keep = [...x.shape.slice(0, -1), 1]
  const sq = m.op('Mul', [x, x], x.shape)
  const ms = m.op('ReduceMean', [sq, m.ints([-1], 'axes')], keep, { keepdims: 1 })
  const rms = m.op('Sqrt', [m.op('Add', [ms, m.scalar(eps, 'eps')], keep)], keep)
  return m.op('Mul', [m.op('Div', [x, rms], x.shape), scale], x.shape)
}

/**
 * GELU. 'none' is the exact form x·Φ(x) = 0.5·x·(1 + erf(x/√2)); 'tanh' is GPT-2's approximation
 * 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). Decomposed: ONNX's Gelu op arrives only in opset 20.
 */
export function gelu(m: ModelBuilder, x: Value, approximate: 'none' | 'tanh' = 'none'): Value {
  const s = x.shape
  let inner: Value
  if (approximate === 'none') {
    inner = m.op('Erf', [m.op('Div', [x, m.scalar(Math.SQRT2, 'sqrt2')], s)], s)
  } else {
    const cube = m.op('Mul', [m.op('Mul', [x, x], s), x], s)
    const sum = m.op('Add', [x, m.op('Mul', [cube, m.scalar(0.044715, 'c')], s)], s)
    inner = m.op('Tanh', [m.op('Mul', [sum, m.scalar(Math.sqrt(2 / Math.PI), 'sqrt2_pi')], s)], s)
  }
  const onePlus = m.op('Add', [inner, m.scalar(1, 'one')], s)
  return m.op('Mul', [m.op('Mul', [x, m.scalar(0.5, 'half')], s), onePlus], s)
}

export function relu(m: ModelBuilder, x: Value): Value {
  return m.op('Relu', [x], x.shape)
}

/** SiLU (swish): x · sigmoid(x). */
export function silu(m: ModelBuilder, x: Value): Value {
  return m.op('Mul', [x, m.op('Sigmoid', [x], x.shape)], x.shape)
}

/** x + f(x): the residual connection. */
export function residual(m: ModelBuilder, x: Value, f: (x: Value) => Value): Value {
  return m.op('Add', [x, f(x)], x.shape)
}

/** Linear → activation → Linear, in scopes `c_fc` and `c_proj` (GPT-2's names). */
export function mlpBlock(
  m: ModelBuilder,
  x: Value,
  hidden: number,
  activation: (x: Value) => Value = (v) => gelu(m, v, 'tanh'),
): Value {
  const d = features('MLP', x)
  const h = activation(m.scope('c_fc', () => linear(m, x, hidden)))
  return m.scope('c_proj', () => linear(m, h, d))
}

/** Flatten to [N, rest] (ONNX Flatten, axis 1). */
export function flatten(m: ModelBuilder, x: Value): Value {
  const rest = x.shape.slice(1)
  const n = rest.every((d) => typeof d === 'number') ? (rest as number[]).reduce((a, b) => a * b, 1) : 'flat'
  return m.op('Flatten', [x], [x.shape[0], n], { axis: 1 })
}
