/**
 * A federated client's local work: train the model for some steps from the round's starting weights
 * θ_start and hand back the update θ_local − θ_start per parameter. Browser-safe, so the browser
 * client and a Node client run this same code, each on its own backend; the sessions are compiled
 * once per trainer and kept from round to round.
 */
import { type Tensor, tensor } from '@atoll/core'
import type { Backend } from '../backend/backend.ts'
import { assignParameters } from '../checkpoint/assign.ts'
import { TaskInputError } from '../errors.ts'
import { pipelineModel, type StepReport, Trainer } from '../executor/trainer.ts'
import type { Parameter } from '../optim/parameter.ts'
import type { LrSchedule } from '../optim/schedule.ts'
import { type SgdOptions, sgd } from '../optim/sgd.ts'
import type { TrainableModel } from './model-source.ts'

export interface LocalTrainerOptions {
  /** torch.optim.SGD's options (default: plain SGD); its momentum starts afresh every round */
  sgd?: SgdOptions
  /** clip the global gradient 2-norm to this (default: no clipping) */
  clipNorm?: number
  intraOpThreads?: number
}

export interface LocalRound {
  /** θ_start by parameter name, every parameter with its exact shape; default: the weights held now */
  start?: ReadonlyMap<string, Tensor>
  steps: number
  schedule: LrSchedule
  /** the batch of local step k */
  batch(step: number): Readonly<Record<string, Tensor>>
  onStep?(report: StepReport & { seconds: number }): void | Promise<void>
}

export interface LocalUpdate {
  /** θ_local − θ_start per parameter (float32, the parameter's shape) */
  delta: Map<string, Tensor<'float32'>>
  /** each step's loss, before its update */
  losses: number[]
  /** seconds in steps */
  seconds: number
}

export interface LocalTrainer {
  /** the live weights (θ_local after a round) */
  readonly params: readonly Parameter[]
  /** Trains `round.steps` steps from `round.start` and returns the update. */
  train(round: LocalRound): Promise<LocalUpdate>
  release(): Promise<void>
}

/**
 * A trainer for federated rounds. A model's running statistics (BatchNorm) move with its training,
 * in the graph's initializers, and are not part of the update.
 */
export function localTrainer(
  model: TrainableModel,
  backend: Backend,
  options: LocalTrainerOptions = {},
): LocalTrainer {
  const { params, pipeline } = pipelineModel(model.graph, {
    backend,
    loss: model.loss,
    intraOpThreads: options.intraOpThreads,
  })
  return {
    params,
    async train(round) {
      if (!Number.isInteger(round.steps) || round.steps < 0)
        throw new TaskInputError(`local steps must be an integer ≥ 0, got ${round.steps}`)
      if (round.start !== undefined) assignParameters(params, round.start, { source: 'the round weights' })
      const start = params.map((p) => Float32Array.from(p.value))
      const trainer = new Trainer({
        pipeline,
        params,
        optimizer: sgd(params, options.sgd),
        schedule: round.schedule,
        clipNorm: options.clipNorm,
      })
      const losses: number[] = []
      let seconds = 0
      while (trainer.step < round.steps) {
        const t0 = performance.now()
        const report = await trainer.trainStep(round.batch(trainer.step))
        const stepSeconds = (performance.now() - t0) / 1000
        losses.push(report.loss)
        seconds += stepSeconds
        await round.onStep?.({ ...report, seconds: stepSeconds })
      }
      return { delta: difference(params, start), losses, seconds }
    },
    release: () => pipeline.release(),
  }
}

/** θ − θ_start, rounded to float32 as the weights are, so every platform gets the same bits. */
function difference(
  params: readonly Parameter[],
  start: readonly Float32Array[],
): Map<string, Tensor<'float32'>> {
  return new Map(
    params.map((p, k) => {
      const d = new Float32Array(p.value.length)
      for (let i = 0; i < d.length; i++) d[i] = p.value[i] - start[k][i]
      return [p.name, tensor('float32', p.shape, d)]
    }),
  )
}
