/** The job: build the zoo CNN, train it with the runtime's `fit`, evaluate it on the test split. */
import { writeFileSync } from 'node:fs'
import { mnistCnn, writeSafetensors } from '@atoll/core'
import {
  evaluate,
  fit,
  loadImageDataset,
  nodeBackends,
  openDataSource,
  parameterTensor,
  StepLog,
  type TrainableModel,
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

export async function trainMnist(o: MnistOptions, progress: (line: string) => void): Promise<MnistSummary> {
  const zoo = mnistCnn({ seed: o.seed, batchNorm: o.batchNorm })
  const model: TrainableModel = {
    graph: zoo.graph,
    dataInput: zoo.inputs[0],
    loss: zoo.loss ?? 'loss',
    label: o.batchNorm ? 'mnist-cnn' : 'mnist-cnn (no BatchNorm)',
  }
  const train = await openDataSource(o.dataset, model, {
    batchSize: o.batchSize,
    seed: o.seed,
    split: 'train',
  })
  const steps = o.steps ?? o.epochs * train.batchesPerEpoch
  const backend = await nodeBackends().resolve(o.device)
  const log = o.log === undefined ? undefined : new StepLog(o.log)
  const losses: number[] = []
  let seconds = 0
  const result = await fit({
    model,
    backend,
    batch: (k) => train.shuffled(k),
    optimizer:
      o.optimizer === 'sgd'
        ? { kind: 'sgd', momentum: o.momentum, weightDecay: o.weightDecay }
        : { kind: 'adamw', weightDecay: o.weightDecay },
    // cosine decay to zero: the last epochs settle into a minimum instead of bouncing around it
    schedule: { kind: 'cosine', lr: o.lr, warmupSteps: 0, totalSteps: steps, minLr: 0 },
    steps,
    intraOpThreads: o.threads,
    onStep(r) {
      losses.push(r.loss)
      seconds += r.seconds
      log?.write({ step: r.step, loss: r.loss })
      const done = r.step + 1
      if (done % o.logEvery === 0 || done === steps) {
        const recent = mean(losses.slice(-o.logEvery))
        progress(
          `step ${done}/${steps}  epoch ${(done / train.batchesPerEpoch).toFixed(2)}  ` +
            `loss ${recent.toFixed(4)}  lr ${r.lr.toExponential(2)}  ` +
            `${((done * o.batchSize) / seconds).toFixed(0)} images/s`,
        )
      }
    },
  })
  if (o.save !== undefined)
    writeFileSync(
      o.save,
      writeSafetensors(
        new Map([...result.params.map((p) => [p.name, parameterTensor(p)] as const), ...result.state]),
      ),
    )
  // evaluate() runs the inference-mode graph (BatchNorm uses the running statistics kept in
  // training), so batching does not change the score; one batch of the whole split scores every
  // image (a stream drops a partial last batch, and MNIST's 1 429 test images are a prime number).
  const testImages = loadImageDataset(o.dataset).test.count
  const test = await openDataSource(o.dataset, model, { batchSize: testImages, split: 'eval' })
  const evaluation = await evaluate(model, result.params, backend, [test.ordered(0)])
  // halves at most, so that a short run compares disjoint windows
  const window = Math.max(1, Math.min(20, Math.floor(losses.length / 2)))
  return {
    dataset: o.dataset,
    trainImages: train.count,
    testImages: evaluation.positions,
    parameters: result.params.reduce((n, p) => n + p.value.length, 0),
    steps,
    epochs: steps / train.batchesPerEpoch,
    firstLoss: mean(losses.slice(0, window)),
    lastLoss: mean(losses.slice(-window)),
    window,
    testLoss: evaluation.loss,
    testAccuracy: evaluation.accuracy,
    trainSeconds: seconds,
    backend: backend.name,
  }
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length
}
