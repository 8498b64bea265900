/** Small models: a multilayer perceptron and a CNN for 28×28 MNIST digits. */
import { batchNorm2d, conv2d, maxPool2d } from '../builder/conv.ts'
import { flatten, linear, relu } from '../builder/layers.ts'
import { crossEntropyLoss, TARGETS_NAME } from '../builder/loss.ts'
import { ModelBuilder, type Value } from '../builder/model.ts'
import type { ZooModel, ZooOptions } from './common.ts'

function finish(m: ModelBuilder, logits: Value, options: ZooOptions, input: string): ZooModel {
  m.output(logits)
  const inputs = [input]
  let loss: string | undefined
  if (options.loss !== false) {
    const targets = m.input(TARGETS_NAME, [logits.shape[0]], 'int64')
    loss = crossEntropyLoss(m, logits, targets).name
    inputs.push(TARGETS_NAME)
  }
  return { graph: m.build(), logits: logits.name, loss, inputs }
}

export interface MlpOptions extends ZooOptions {
  /** layer widths, input first and classes last; default [784, 128, 10] */
  sizes?: number[]
}

/** Linear layers `fc1`… with ReLU between them. */
export function mlp(options: MlpOptions = {}): ZooModel {
  const sizes = options.sizes ?? [784, 128, 10]
  if (sizes.length < 2) throw new RangeError('an MLP needs at least an input and an output size')
  const m = new ModelBuilder({ name: 'mlp', seed: options.seed, shapesOnly: options.shapesOnly })
  let x = m.input('x', [options.batch ?? 'batch', sizes[0]])
  for (let i = 1; i < sizes.length; i++) {
    x = m.scope(`fc${i}`, () => linear(m, x, sizes[i]))
    if (i < sizes.length - 1) x = relu(m, x)
  }
  return finish(m, x, options, 'x')
}

export interface MnistCnnOptions extends ZooOptions {
  /** BatchNorm after each convolution, in training mode; default true */
  batchNorm?: boolean
}

/** conv(1→8) → [bn] → relu → pool → conv(8→16) → [bn] → relu → pool → fc(784→10). */
export function mnistCnn(options: MnistCnnOptions = {}): ZooModel {
  const m = new ModelBuilder({ name: 'mnist_cnn', seed: options.seed, shapesOnly: options.shapesOnly })
  let x = m.input('x', [options.batch ?? 'batch', 1, 28, 28])
  for (const [i, c] of [8, 16].entries()) {
    x = m.scope(`conv${i + 1}`, () => conv2d(m, x, c, 3, { padding: 1 }))
    if (options.batchNorm !== false) x = m.scope(`bn${i + 1}`, () => batchNorm2d(m, x))
    x = maxPool2d(m, relu(m, x), 2)
  }
  return finish(
    m,
    m.scope('fc', () => linear(m, flatten(m, x), 10)),
    options,
    'x',
  )
}
