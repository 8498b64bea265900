/** The job: build the zoo CNN, train it with the runtime's `fit`, evaluate it on the test split. */
import { writeFileSync } from 'node:fs'
import { mnistCnn } from '@atoll/core'
import {
  DEFAULT_BACKEND,
  evaluate,
  fit,
  loadImageDataset,
  lossTrend,
  nodeBackends,
  openDataSource,
  stepProgress,
  type TrainableModel,
  weightsFile,
} from '@atoll/runtime'
import type { MnistOptions } from './options.ts'

export interface MnistSummary {
  dataset: string
  trainImages: number
  testImages: number
  parameters: number
  steps: number
  epochs: number
  /** mean training loss over the first and the last `window` steps */
  firstLoss: number
  lastLoss: number
  window: number
  testLoss: number
  testAccuracy: number
  trainSeconds: number
  backend: string
}

export async function trainMnist(
  options: MnistOptions,
  progress: (line: string) => void,
): Promise<MnistSummary> {
  const { training } = options
  const { steps, batchSize } = training
  const zoo = mnistCnn({ seed: training.seed, batchNorm: options.batchNorm })
  const model: TrainableModel = {
    graph: zoo.graph,
    dataInput: zoo.inputs[0],
    loss: zoo.loss ?? 'loss',
    label: options.batchNorm ? 'mnist-cnn' : 'mnist-cnn (no BatchNorm)',
  }
  const train = await openDataSource(options.dataset, model, { ...training, split: 'train' })
  const backend = await nodeBackends().resolve(training.device ?? DEFAULT_BACKEND)
  const onStep = stepProgress(steps, options.logEvery, (p) =>
    progress(
      `step ${p.done}/${steps}  epoch ${(p.done / train.batchesPerEpoch).toFixed(2)}  loss ${p.loss.toFixed(4)}  ` +
        `lr ${p.lr.toExponential(2)}  ${((p.done * batchSize) / p.seconds).toFixed(0)} images/s`,
    ),
  )
  const result = await fit({ model, backend, batch: (k) => train.shuffled(k), ...training, onStep })
  if (training.save !== undefined) writeFileSync(training.save, weightsFile(result.params, result.state))
  // evaluate() runs the inference-mode graph (BatchNorm uses the running statistics kept in
  // training), so batching does not change the score; one batch of the whole split scores every
  // image (a stream drops a partial last batch, and MNIST's 1 429 test images are a prime number).
  const testImages = loadImageDataset(options.dataset).test.count
  const test = await openDataSource(options.dataset, model, { batchSize: testImages, split: 'eval' })
  const evaluation = await evaluate(model, result.params, backend, [test.ordered(0)])
  return {
    dataset: options.dataset,
    trainImages: train.count,
    testImages: evaluation.positions,
    parameters: result.params.reduce((n, p) => n + p.value.length, 0),
    steps,
    epochs: steps / train.batchesPerEpoch,
    ...lossTrend(result.losses),
    testLoss: evaluation.loss,
    testAccuracy: evaluation.accuracy,
    trainSeconds: result.seconds,
    backend: backend.name,
  }
}
