/** Training on one fixed batch: a pipeline whose updates reach the next step lowers its loss. */
import type { Tensor } from '@atoll/core'
import {
  adamw,
  type DynamicLossScale,
  type Parameter,
  type Pipeline,
  type StepReport,
  Trainer,
} from '../src/index.ts'

/**
 * The loss before each of `steps` AdamW steps (lr 3e-3, no weight decay) on `batch`, with each
 * step's report; `lossScale` for a float16 pipeline.
 */
export async function fixedBatchLosses(
  { params, pipeline }: { params: Parameter[]; pipeline: Pipeline },
  batch: Record<string, Tensor>,
  steps: number,
  microBatches?: number,
  lossScale?: DynamicLossScale,
): Promise<{ losses: number[]; reports: StepReport[]; trainer: Trainer }> {
  const trainer = new Trainer({
    pipeline,
    params,
    optimizer: adamw(params, { weightDecay: 0 }),
    schedule: { kind: 'constant', lr: 3e-3 },
    microBatches,
    lossScale,
  })
  const reports: StepReport[] = []
  for (let i = 0; i < steps; i++) reports.push(await trainer.trainStep(batch))
  return { losses: reports.map((r) => r.loss), reports, trainer }
}
