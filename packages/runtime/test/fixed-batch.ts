/** Training on one fixed batch: a pipeline whose updates reach the next step lowers its loss. */
import type { Tensor } from '@atoll/core'
import { adamw, type Parameter, type Pipeline, Trainer } from '../src/index.ts'

/** The loss before each of `steps` AdamW steps (lr 3e-3, no weight decay) on `batch`. */
export async function fixedBatchLosses(
  { params, pipeline }: { params: Parameter[]; pipeline: Pipeline },
  batch: Record<string, Tensor>,
  steps: number,
  microBatches?: number,
): Promise<{ losses: number[]; trainer: Trainer }> {
  const trainer = new Trainer({
    pipeline,
    params,
    optimizer: adamw(params, { weightDecay: 0 }),
    schedule: { kind: 'constant', lr: 3e-3 },
    microBatches,
  })
  const losses: number[] = []
  for (let i = 0; i < steps; i++) losses.push((await trainer.trainStep(batch)).loss)
  return { losses, trainer }
}
