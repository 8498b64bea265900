import { type FieldProblem, type ProblemError, parseWith, type Tensor } from '@atoll/core'
import * as z from 'zod/mini'
import type { Backend } from '../backend/backend.ts'
import { assignParameters } from '../checkpoint/assign.ts'
import { loadCheckpoint, restoreCheckpoint, saveCheckpoint } from '../checkpoint/checkpoint.ts'
import { OptimizerConfigError, TaskInputError } from '../errors.ts'
import { bindSymbols, microBatchView } from '../executor/bindings.ts'
import type { PipelineSchedule } from '../executor/schedule.ts'
import type { ActivationPolicy } from '../executor/stage-graphs.ts'
import { modelState } from '../executor/state.ts'
import { pipelineModel, type Precision, type StepReport, Trainer } from '../executor/trainer.ts'
import { DynamicLossScale } from '../optim/loss-scale.ts'
import type { Parameter } from '../optim/parameter.ts'
import { type LrSchedule, lrSchedule } from '../optim/schedule.ts'
import type { TrainableModel } from './model-source.ts'
import { makeOptimizer, needsSharedParameters, type OptimizerSpec, optimizerSpec } from './optimizer-spec.ts'
import { StepLog } from './step-log.ts'

export interface FitOptions {
  model: TrainableModel
  backend: Backend
  /** the batch of step k (a fixed batch, or a data stream's k-th batch) */
  batch(step: number): Readonly<Record<string, Tensor>>
  optimizer: OptimizerSpec
  schedule: LrSchedule
  steps: number
  clipNorm?: number
  microBatches?: number
  stages?: number
  policy?: ActivationPolicy
  pipelineSchedule?: PipelineSchedule
  /** starting weights by parameter name (every parameter, exact shapes) */
  init?: ReadonlyMap<string, Tensor>
  /** resume from, and save to, this checkpoint directory every `every` steps and at the end */
  checkpoint?: { dir: string; every: number }
  intraOpThreads?: number
  /** `fp16`: matrix products in float16 with float32 master weights and dynamic loss scaling (default fp32) */
  precision?: Precision
  /** append `{ step, loss }` per step to this JSONL file (on resume, after the steps before it) */
  log?: string
  onStep?(report: StepReport & { seconds: number; samples: number }): void | Promise<void>
  /** called once before the first step, with the step training starts at (> 0 after a resume) */
  onStart?(startStep: number): void
}

export interface FitResult {
  params: Parameter[]
  /** the model's running statistics (live: the graph's own initializers) */
  state: Map<string, Tensor>
  /** the step training started at (after a resume) and ended at */
  from: number
  to: number
  /** the loss of each step from `from`, and the seconds the steps took */
  losses: number[]
  seconds: number
}

/** What `checkFitSettings` checks: the options of a run that may come from people (flags, job files). */
const fitSettings = z.object({
  steps: z.int().check(z.gte(0)),
  optimizer: optimizerSpec,
  schedule: lrSchedule,
})

/** A bad step count is the task's input; a bad optimizer or schedule, the optimizer's configuration. */
function settingsError(problem: FieldProblem): Error {
  return problem.keys[0] === 'steps'
    ? new TaskInputError(problem.message)
    : new OptimizerConfigError(problem.message)
}

/**
 * Checks the steps, optimizer and schedule of a run before any work, with the rules that span fields:
 * each optimizer takes its own options only, a cosine's warm-up fits in its steps and its floor stays
 * under its peak. `fit` calls it; `atoll fit`, the examples and job files call it first, with a `fail`
 * that names the problem as their users wrote it (`--warmup`, `job.yaml: training.schedule…`).
 */
export function checkFitSettings(
  settings: Pick<FitOptions, 'steps' | 'optimizer' | 'schedule'>,
  fail: ProblemError = settingsError,
): void {
  parseWith(fitSettings, settings, fail)
}

/** Trains `model` for `steps` optimizer steps in this process, resuming from a checkpoint when there is one. */
export async function fit(options: FitOptions): Promise<FitResult> {
  checkFitSettings(options)
  const { model, backend, steps, schedule } = options
  const stages = options.stages ?? 1
  // a split needs static boundary shapes: bind the symbols to the first micro-batch's sizes
  const first = stages > 1 ? options.batch(0) : undefined
  const bindings = first && bindSymbols(model.graph, microBatches(first, options.microBatches ?? 1))
  const { params, pipeline } = pipelineModel(model.graph, {
    backend,
    stages,
    bindings,
    sharedParameters: needsSharedParameters(options.optimizer),
    policy: options.policy,
    loss: model.loss,
    intraOpThreads: options.intraOpThreads,
    precision: options.precision,
  })
  // running statistics live in the graph's initializers, which the stages update in place
  const state = modelState(model.graph)
  if (options.init) assignParameters(params, options.init, { source: 'the --init weights', state })
  const optimizer = makeOptimizer(options.optimizer, params)
  const trainer = new Trainer({
    pipeline,
    params,
    optimizer,
    schedule,
    clipNorm: options.clipNorm,
    microBatches: options.microBatches,
    pipelineSchedule: options.pipelineSchedule,
    lossScale: options.precision === 'fp16' ? new DynamicLossScale() : undefined,
  })
  const ckpt = options.checkpoint
  const resumed = ckpt ? await loadCheckpoint(ckpt.dir) : undefined
  if (resumed) restoreCheckpoint(resumed, params, optimizer, state)
  const from = trainer.step
  options.onStart?.(from)
  const log = options.log === undefined ? undefined : new StepLog(options.log, from)
  const losses: number[] = []
  let seconds = 0
  try {
    while (trainer.step < steps) {
      const batch = options.batch(trainer.step)
      const t0 = performance.now()
      const report = await trainer.trainStep(batch)
      const samples = Object.values(batch)[0]?.shape[0] ?? 0
      const stepSeconds = (performance.now() - t0) / 1000
      losses.push(report.loss)
      seconds += stepSeconds
      log?.write({ step: report.step, loss: report.loss })
      await options.onStep?.({ ...report, seconds: stepSeconds, samples })
      const done = trainer.step
      if (ckpt && (done % ckpt.every === 0 || done === steps))
        await saveCheckpoint(ckpt.dir, done, params, optimizer, { state })
    }
  } finally {
    optimizer.close()
    await pipeline.release()
  }
  return { params, state, from, to: trainer.step, losses, seconds }
}

function microBatches(batch: Readonly<Record<string, Tensor>>, count: number): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(batch).map(([k, t]) => [k, microBatchView(t, 0, count)]))
}
