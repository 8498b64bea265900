/** Causal multi-head self-attention (GPT-2 layout: one fused qkv projection `c_attn`, then `c_proj`). */
import { tensor } from '../tensor.ts'
import { LayerShapeError } from './errors.ts'
import { features, linear } from './layers.ts'
import type { ModelBuilder, Value } from './model.ts'

/** Masked scores are set to the lowest float32 rather than -inf, so a fully masked row can't make NaN. */
const MASKED = -3.4028234663852886e38

/** x: [batch, seq, d] with a static seq; heads must divide d. */
export function causalSelfAttention(model: ModelBuilder, input: Value, heads: number): Value {
  const d = features('CausalSelfAttention', input)
  const [batch, seq] = input.shape
  if (input.shape.length !== 3 || typeof seq !== 'number') {
    throw new LayerShapeError(
      'CausalSelfAttention',
      `needs [batch, seq, d] with a static seq, got [${input.shape}]`,
    )
  }
  if (d % heads !== 0) throw new LayerShapeError('CausalSelfAttention', `${heads} heads do not divide d=${d}`)
  const hd = d / heads
  const qkv = model.scope('c_attn', () => linear(model, input, 3 * d))
  const parts = model.builder.node(
    'Split',
    [qkv.name, model.ints([d, d, d], 'split').name],
    { axis: -1 },
    { outputs: 3 },
  )
  // Reshape with 0 copies the batch dimension, which may be symbolic
  const split = model.ints([0, seq, heads, hd], 'heads_shape')
  const headsOf = (name: string, perm: number[], shape: (number | string)[]) => {
    const v: Value = { name, dtype: input.dtype, shape: [batch, seq, d] }
    const r = model.op('Reshape', [v, split], [batch, seq, heads, hd])
    return model.op('Transpose', [r], shape, { perm })
  }
  const q = headsOf(parts[0], [0, 2, 1, 3], [batch, heads, seq, hd])
  const kT = headsOf(parts[1], [0, 2, 3, 1], [batch, heads, hd, seq])
  const v = headsOf(parts[2], [0, 2, 1, 3], [batch, heads, seq, hd])
  const scores = model.op(
    'Mul',
    [model.op('MatMul', [q, kT], [batch, heads, seq, seq]), model.scalar(1 / Math.sqrt(hd), 'scale')],
    [batch, heads, seq, seq],
  )
  const keep = new Uint8Array(seq * seq)
  for (let i = 0; i < seq; i++) for (let j = 0; j <= i; j++) keep[i * seq + j] = 1
  const mask = model.constant(tensor('bool', [seq, seq], keep), 'causal_mask')
  const masked = model.op('Where', [mask, scores, model.scalar(MASKED, 'masked')], scores.shape)
  const probs = model.op('Softmax', [masked], scores.shape, { axis: -1 })
  const y = model.op('MatMul', [probs, v], [batch, heads, seq, hd])
  const merged = model.op(
    'Reshape',
    [
      model.op('Transpose', [y], [batch, seq, heads, hd], { perm: [0, 2, 1, 3] }),
      model.ints([0, seq, d], 'merge_shape'),
    ],
    [batch, seq, d],
  )
  return model.scope('c_proj', () => linear(model, merged, d))
}
