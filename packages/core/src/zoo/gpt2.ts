/** GPT-2 (Radford et al. 2019) in HF module names: wte, wpe, h.N.{ln_1,attn,ln_2,mlp}, ln_f; tied head. */
import { causalSelfAttention } from '../builder/attention.ts'
import { embedding, layerNorm, mlpBlock } from '../builder/layers.ts'
import { crossEntropyLoss, TARGETS_NAME } from '../builder/loss.ts'
import { ModelBuilder, type Value } from '../builder/model.ts'
import { int64 } from '../tensor.ts'
import type { ZooModel, ZooOptions } from './common.ts'

export interface GPT2Config {
  vocab: number
  ctx: number
  d: number
  layers: number
  heads: number
}

export const GPT2_CONFIGS = {
  /** for tests and the demo: a few hundred thousand parameters */
  tiny: { vocab: 256, ctx: 32, d: 64, layers: 2, heads: 4 },
  mini: { vocab: 2048, ctx: 128, d: 128, layers: 4, heads: 4 },
  /** six layers of width 384 (~13M parameters): a GPT that trains on a CPU in minutes */
  d384: { vocab: 8192, ctx: 256, d: 384, layers: 6, heads: 6 },
  /**
   * GPT-2 small as published: 124,439,808 parameters. `small` and `124M` are the same model —
   * "GPT-2 small" means this one everywhere in the field (HF `gpt2`, the papers), so a user who
   * asks for `gpt2:small` must not get a toy.
   */
  small: { vocab: 50257, ctx: 1024, d: 768, layers: 12, heads: 12 },
  '124M': { vocab: 50257, ctx: 1024, d: 768, layers: 12, heads: 12 },
} as const satisfies Record<string, GPT2Config>

export interface GPT2Options extends ZooOptions {
  config?: keyof typeof GPT2_CONFIGS | GPT2Config
  /** sequence length of the built graph; default the context length */
  seq?: number
  /** cross-entropy ignore index for padded targets */
  ignoreIndex?: number
}

export function gpt2(options: GPT2Options = {}): ZooModel {
  const c: GPT2Config =
    typeof options.config === 'object' ? options.config : GPT2_CONFIGS[options.config ?? 'tiny']
  const seq = options.seq ?? c.ctx
  if (seq > c.ctx) throw new RangeError(`seq ${seq} exceeds the context length ${c.ctx}`)
  const batch = options.batch ?? 'batch'
  const m = new ModelBuilder({ name: 'gpt2', seed: options.seed, shapesOnly: options.shapesOnly })
  const ids = m.input('input_ids', [batch, seq], 'int64')
  const wte = m.scope('wte', () => embedding(m, ids, c.vocab, c.d, 0.02))
  const positions = m.constant(
    int64(
      [seq],
      Array.from({ length: seq }, (_, i) => i),
    ),
    'positions',
  )
  let x: Value = m.scope('wpe', () => {
    const wpe = embedding(m, positions, c.ctx, c.d, 0.01)
    return m.op('Add', [wte, wpe], [batch, seq, c.d])
  })
  for (let i = 0; i < c.layers; i++) {
    x = m.scope('h', () => m.scope(i, () => block(m, x, c)))
  }
  x = m.scope('ln_f', () => layerNorm(m, x))
  const logits = m.scope('lm_head', () => {
    // tied: the output projection is the token embedding table, transposed
    const table = { name: 'wte.weight', dtype: 'float32' as const, shape: [c.vocab, c.d] }
    const wT = m.op('Transpose', [table], [c.d, c.vocab], { perm: [1, 0] })
    return m.op('MatMul', [x, wT], [batch, seq, c.vocab])
  })
  m.output(logits)
  const inputs = ['input_ids']
  let loss: string | undefined
  if (options.loss !== false) {
    const targets = m.input(TARGETS_NAME, [batch, seq], 'int64')
    loss = crossEntropyLoss(m, logits, targets, { ignoreIndex: options.ignoreIndex }).name
    inputs.push(TARGETS_NAME)
  }
  return { graph: m.build(), logits: logits.name, loss, inputs }
}

function block(m: ModelBuilder, x: Value, c: GPT2Config): Value {
  const a = m.scope('attn', () =>
    causalSelfAttention(
      m,
      m.scope('ln_1', () => layerNorm(m, x)),
      c.heads,
    ),
  )
  const x1 = m.op('Add', [x, a], x.shape)
  const h = m.scope('mlp', () =>
    mlpBlock(
      m,
      m.scope('ln_2', () => layerNorm(m, x1)),
      4 * c.d,
    ),
  )
  return m.op('Add', [x1, h], x.shape)
}
