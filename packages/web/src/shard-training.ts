/**
 * Local training on a shard of images: a zoo classifier trained with SGD through runtime's local
 * trainer, on batches from runtime's image stream. Browser-safe and free of the page: the page runs
 * it on onnxruntime-web, and a Node client (or a test) runs the very same code on onnxruntime-node,
 * so the two compute the same update for the same images, model and seed.
 */
import type { Tensor } from '@atoll/core'
import {
  type Backend,
  type ImageSet,
  imageNormalisation,
  imageStream,
  type LocalUpdate,
  localTrainer,
  type StepReport,
  TaskInputError,
  zooModel,
} from '@atoll/runtime'
import type { PageOptions } from './page-options.ts'

export interface ShardTrainingOptions extends Pick<PageOptions, 'model' | 'steps' | 'batch' | 'lr' | 'seed'> {
  backend: Backend
  images: ImageSet
  /** θ_start (a federated round's global model); default the model's initialisation by `seed` */
  start?: ReadonlyMap<string, Tensor>
  onStep?(report: StepReport & { seconds: number }): void | Promise<void>
}

/** Trains `steps` SGD steps of `batch` images at a constant `lr`; the update is θ_local − θ_start. */
export async function trainOnShard(options: ShardTrainingOptions): Promise<LocalUpdate> {
  const model = zooModel(options.model, options.seed)
  const input = model.graph.inputs.find((i) => i.name === model.dataInput)
  if (input === undefined) throw new TaskInputError(`the model has no input '${model.dataInput}'`)
  const stream = imageStream(options.images, imageNormalisation(options.images.name), input, {
    batchSize: options.batch,
    seed: options.seed,
  })
  const trainer = localTrainer(model, options.backend)
  try {
    return await trainer.train({
      start: options.start,
      steps: options.steps,
      schedule: { kind: 'constant', lr: options.lr },
      batch: (step) => stream.shuffled(step),
      onStep: options.onStep,
    })
  } finally {
    await trainer.release()
  }
}
