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
import { StepLoopTrainer } from '../executor/step-loop.ts'
import { parametersOf, pipelineModel, type Precision, type StepReport, Trainer } from '../executor/trainer.ts'
import { DynamicLossScale } from '../optim/loss-scale.ts'
import type { Optimizer } from '../optim/optimizer.ts'
import type { Parameter } from '../optim/parameter.ts'
import { type LrSchedule, lrAt, lrSchedule } from '../optim/schedule.ts'
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
  /**
   * optimizer steps per session run: with more than 1, forward, backward and AdamW run inside one
   * session for that many batches, so weights cross to a GPU once per run (AdamW only, 1 stage,
   * 1 micro-batch, fp32, no clipping). Default: `stepsPerRunFor`'s.
   */
  stepsPerRun?: number
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
  stepsPerRun: z.optional(z.int().check(z.gte(1))),
  optimizer: optimizerSpec,
  schedule: lrSchedule,
})

/** A bad step count is the task's input; a bad optimizer or schedule, the optimizer's configuration. */
function settingsError(problem: FieldProblem): Error {
  return problem.keys[0] === 'steps' || problem.keys[0] === 'stepsPerRun'
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
  settings: Pick<FitOptions, 'steps' | 'optimizer' | 'schedule' | 'stepsPerRun'>,
  fail: ProblemError = settingsError,
): void {
  parseWith(fitSettings, settings, fail)
}

/** Trains `model` for `steps` optimizer steps in this process, resuming from a checkpoint when there is one. */
export async function fit(options: FitOptions): Promise<FitResult> {
  checkFitSettings(options)
  const { model, steps } = options
  // running statistics live in the graph's initializers, which the sessions update in place
  const state = modelState(model.graph)
  const perRun = stepsPerRunFor(options, options.backend.name)
  const engine = perRun > 1 ? loopEngine(options, perRun) : stepEngine(options)
  const { params } = engine
  if (options.init) assignParameters(params, options.init, { source: 'the --init weights', state })
  const ckpt = options.checkpoint
  const resumed = ckpt ? await loadCheckpoint(ckpt.dir) : undefined
  if (resumed) restoreCheckpoint(resumed, params, engine.optimizer, state)
  const from = engine.step()
  options.onStart?.(from)
  const log = options.log === undefined ? undefined : new StepLog(options.log, from)
  const losses: number[] = []
  let seconds = 0
  try {
    while (engine.step() < steps) {
      const at = engine.step()
      // a run of steps ends at the next checkpoint, so that every checkpoint lands where it is due
      const untilCheckpoint = ckpt ? ckpt.every - (at % ckpt.every) : Number.POSITIVE_INFINITY
      const t0 = performance.now()
      const { reports, samples } = await engine.advance(Math.min(steps - at, untilCheckpoint))
      const stepSeconds = (performance.now() - t0) / 1000 / reports.length
      for (const report of reports) {
        losses.push(report.loss)
        seconds += stepSeconds
        log?.write({ step: report.step, loss: report.loss })
        await options.onStep?.({ ...report, seconds: stepSeconds, samples })
      }
      const done = engine.step()
      if (ckpt && (done % ckpt.every === 0 || done === steps))
        await saveCheckpoint(ckpt.dir, done, params, engine.optimizer, { state })
    }
  } finally {
    await engine.close()
  }
  return { params, state, from, to: engine.step(), losses, seconds }
}

/** How `fit` takes steps: one per session run (the pipeline and a host optimizer), or several. */
interface Engine {
  params: Parameter[]
  optimizer: Pick<Optimizer, 'exportState' | 'importState'>
  /** optimizer steps taken */
  step(): number
  /** takes at least one and at most `limit` steps; what each reported, and the samples in a step's batch */
  advance(limit: number): Promise<{ reports: StepReport[]; samples: number }>
  close(): Promise<void>
}

function stepEngine(options: FitOptions): Engine {
  const { model, backend } = options
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
  const optimizer = makeOptimizer(options.optimizer, params)
  const trainer = new Trainer({
    pipeline,
    params,
    optimizer,
    schedule: options.schedule,
    clipNorm: options.clipNorm,
    microBatches: options.microBatches,
    pipelineSchedule: options.pipelineSchedule,
    lossScale: options.precision === 'fp16' ? new DynamicLossScale() : undefined,
  })
  return {
    params,
    optimizer,
    step: () => trainer.step,
    async advance() {
      const batch = options.batch(trainer.step)
      return { reports: [await trainer.trainStep(batch)], samples: samplesOf(batch) }
    },
    async close() {
      optimizer.close()
      await pipeline.release()
    },
  }
}

/**
 * Steps per session run on CUDA when none is asked for. onnxruntime-node copies every input in and
 * every output out of a CUDA run, so one step per run moves every weight and gradient each step, and
 * a loop run moves the weights and both moments once per run. On an H100 (docs/gpu.md) the GPT
 * (6×384) ran at 0.50 of PyTorch's step with AdamW at 8 steps per run and 0.66 at 16; GPT-2 small
 * at 0.35 at 16, 0.45 at 32 and 0.55 at 64. 16 keeps a progress report and a chance to stop every
 * few seconds on a model that size; `--steps-per-run` takes more.
 */
export const CUDA_STEPS_PER_RUN = 16

type LoopSettings = Pick<
  FitOptions,
  'stepsPerRun' | 'optimizer' | 'clipNorm' | 'stages' | 'microBatches' | 'precision'
>

/**
 * The steps per session run `fit` takes on `backend`: those asked for; else, on CUDA, CUDA_STEPS_PER_RUN
 * where the loop computes the run (see `loopRefusal`); else 1.
 */
export function stepsPerRunFor(settings: LoopSettings, backend: string): number {
  if (settings.stepsPerRun !== undefined) return settings.stepsPerRun
  return backend === 'cuda' && loopRefusal(settings) === undefined ? CUDA_STEPS_PER_RUN : 1
}

/** What a run needs for several steps per session run and lacks, or undefined when it lacks nothing. */
function loopRefusal(settings: LoopSettings): string | undefined {
  const spec = settings.optimizer
  if (spec.kind !== 'adamw' || spec.amsgrad) return 'AdamW without AMSGrad'
  if (settings.clipNorm !== undefined) return 'no gradient clipping'
  if ((settings.stages ?? 1) > 1 || (settings.microBatches ?? 1) > 1) return '1 stage and 1 micro-batch'
  if ((settings.precision ?? 'fp32') !== 'fp32') return 'fp32'
  return undefined
}

/**
 * `perRun` AdamW steps in each session run (StepLoopTrainer): the weights cross between host and
 * device once per run. What the loop does not compute is refused by name.
 */
function loopEngine(options: FitOptions, perRun: number): Engine {
  const spec = options.optimizer
  const refusal = loopRefusal(options)
  // (`spec.kind` again only narrows the type: loopRefusal refuses every other optimizer)
  if (refusal !== undefined || spec.kind !== 'adamw')
    throw new TaskInputError(`${perRun} steps per run need ${refusal ?? 'AdamW'}`)
  const params = parametersOf(options.model.graph)
  const trainer = new StepLoopTrainer({
    backend: options.backend,
    graph: options.model.graph,
    params: new Map(params.map((p) => [p.name, p])),
    loss: options.model.loss,
    betas: spec.betas,
    eps: spec.eps,
    weightDecay: spec.weightDecay,
    intraOpThreads: options.intraOpThreads,
  })
  return {
    params,
    optimizer: trainer,
    step: () => trainer.steps,
    async advance(limit) {
      const at = trainer.steps
      const count = Math.min(perRun, limit)
      const steps = Array.from({ length: count }, (_, k) => at + k)
      const batches = steps.map((k) => options.batch(k))
      const lrs = steps.map((k) => lrAt(options.schedule, k))
      const losses = await trainer.run(batches, lrs)
      const reports = losses.map((loss, k) => ({ step: at + k, loss, lr: lrs[k], gradNorm: Number.NaN }))
      return { reports, samples: samplesOf(batches[0]) }
    },
    close: () => trainer.release(),
  }
}

const samplesOf = (batch: Readonly<Record<string, Tensor>>) => Object.values(batch)[0]?.shape[0] ?? 0

function microBatches(batch: Readonly<Record<string, Tensor>>, count: number): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(batch).map(([k, t]) => [k, microBatchView(t, 0, count)]))
}
