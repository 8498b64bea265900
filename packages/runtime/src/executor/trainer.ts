import { autocast, type Graph, type StateUpdate, stateUpdates, type Tensor } from '@atoll/core'
import type { Backend } from '../backend/backend.ts'
import { SessionError } from '../errors.ts'
import { clipGradNorm, globalGradNorm } from '../optim/clip.ts'
import type { DynamicLossScale } from '../optim/loss-scale.ts'
import type { Optimizer } from '../optim/optimizer.ts'
import { createParameter, type Parameter, zeroGrads } from '../optim/parameter.ts'
import { type LrSchedule, lrAt } from '../optim/schedule.ts'
import { Pipeline, type TiedGradient } from './pipeline.ts'
import type { PipelineSchedule } from './schedule.ts'
import { evenCuts, splitContiguous } from './split.ts'
import type { ActivationPolicy } from './stage-graphs.ts'
import { FusedLossStage } from './fused-stage.ts'
import type { PipelineStage } from './pipeline-stage.ts'
import { StageExecutor } from './stage.ts'

/**
 * Live float32 Parameters for every trainable initializer of `graph`, in the graph's order;
 * `shared` for an optimizer that runs on worker threads.
 */
export function parametersOf(graph: Graph, options: { shared?: boolean } = {}): Parameter[] {
  return [...graph.parameters].map((name) => {
    const t = graph.initializers.get(name)
    if (t === undefined) throw new SessionError(`parameter '${name}' has no initial value`)
    return createParameter(name, t, options)
  })
}

export interface PipelineModelOptions {
  backend: Backend
  /** stage graphs, or a count for an even contiguous split (default 1) */
  stages?: number | Graph[]
  /** sizes of symbolic dims for a split by count (the micro-batch size): boundary shapes must be static */
  bindings?: Readonly<Record<string, number>>
  policy?: ActivationPolicy
  /**
   * run the loss stage's forward and backward as one session (default true): nothing stashed,
   * one session run per micro-batch; false keeps the two-session path for every stage
   */
  fuseLossStage?: boolean
  loss?: string
  intraOpThreads?: number
  /** Parameters in shared memory, for an optimizer on worker threads (default false) */
  sharedParameters?: boolean
  /**
   * `fp16`: matrix products in float16 (core's autocast), parameters and everything else float32;
   * pair it with a Trainer's DynamicLossScale. Default `fp32`.
   */
  precision?: Precision
}

/** What a model computes its matrix products in. */
export type Precision = 'fp32' | 'fp16'
export const PRECISIONS: readonly Precision[] = ['fp32', 'fp16']

/** A model's Parameters and a Pipeline of its stages, sharing the same weights. */
export function pipelineModel(
  graph: Graph,
  options: PipelineModelOptions,
): { params: Parameter[]; pipeline: Pipeline } {
  const params = parametersOf(graph, { shared: options.sharedParameters })
  const byName = new Map(params.map((p) => [p.name, p]))
  const loss = options.loss ?? 'loss'
  const stages = options.stages ?? 1
  const split =
    typeof stages === 'number'
      ? stages === 1
        ? [graph]
        : splitContiguous(graph, evenCuts(graph, stages), options.bindings)
      : stages
  const graphs = options.precision === 'fp16' ? split.map((g) => autocast(g, 'float16')) : split
  // the model's running statistics, found before any decomposition: each stage updates those whose
  // new values its nodes compute (also for core partition stages, whose BatchNorms are decomposed)
  const modelState = stateUpdates(graph)
  const tied = tiedGradients(graphs, byName)
  const executors = graphs.map((g, k) => {
    const own = new Map(byName)
    for (const t of tied) for (const p of t.from) if (p.stage === k) own.set(p.name, p)
    return stageRunner(g, {
      ...options,
      loss,
      index: k,
      count: graphs.length,
      params: own,
      state: modelState,
    })
  })
  return { params, pipeline: new Pipeline(executors, loss, tied) }
}

/**
 * For each parameter several stages read, a gradient of its own for every reader after the first:
 * the weights are shared (one array), the gradients are summed in stage order after the step.
 */
function tiedGradients(
  graphs: readonly Graph[],
  params: ReadonlyMap<string, Parameter>,
): (TiedGradient & { from: (Parameter & { stage: number })[] })[] {
  return [...params.values()].flatMap((into) => {
    const readers = graphs.flatMap((g, k) => (g.parameters.has(into.name) ? [k] : []))
    if (readers.length < 2) return []
    const from = readers
      .slice(1)
      .map((stage) => ({ ...into, grad: new Float32Array(into.grad.length), stage }))
    return [{ into, from }]
  })
}

export interface StageRunnerOptions
  extends Pick<PipelineModelOptions, 'backend' | 'policy' | 'fuseLossStage' | 'intraOpThreads'> {
  loss: string
  /** the stage's place in the pipeline: the first sends no input gradients, the last holds the loss */
  index: number
  count: number
  /** the model's Parameters by name (a stage reads those its graph names) */
  params: ReadonlyMap<string, Parameter>
  /** the model's running statistics (stateUpdates of the whole graph); the stage keeps those it computes */
  state: readonly StateUpdate[]
}

/**
 * What runs one stage of a pipeline: the loss stage as one fused session (unless `fuseLossStage` is
 * false), any other as a StageExecutor. pipelineModel makes one per stage; a peer running one stage of
 * a job across processes makes its own, so both run the same code.
 */
export function stageRunner(graph: Graph, options: StageRunnerOptions): PipelineStage {
  const last = options.index === options.count - 1
  const produced = new Set(graph.nodes.flatMap((n) => n.outputs))
  const state = options.state.filter((u) => produced.has(u.update))
  const gradInputs =
    options.index === 0 ? [] : graph.inputs.filter((i) => i.dtype === 'float32').map((i) => i.name)
  const common = {
    backend: options.backend,
    graph,
    params: options.params,
    gradInputs,
    intraOpThreads: options.intraOpThreads,
    state,
  }
  if (last && options.fuseLossStage !== false) return new FusedLossStage({ ...common, loss: options.loss })
  return new StageExecutor({
    ...common,
    policy: options.policy,
    differentiate: last
      ? [options.loss]
      : graph.outputs.filter((o) => o.dtype === 'float32').map((o) => o.name),
  })
}

export interface TrainerOptions {
  pipeline: Pipeline
  params: readonly Parameter[]
  optimizer: Optimizer
  schedule: LrSchedule
  /** clip the global gradient 2-norm to this (default: no clipping) */
  clipNorm?: number
  microBatches?: number
  pipelineSchedule?: PipelineSchedule
  /** for float16: the loss scale, and skipping the steps whose gradients overflowed */
  lossScale?: DynamicLossScale
}

export interface StepReport {
  /** 0-based index of the step just taken */
  step: number
  /** the batch's mean loss, computed before this step's update */
  loss: number
  lr: number
  /** global gradient norm before clipping */
  gradNorm: number
  /** the gradients overflowed under the loss scale: no update was made (the step is taken again) */
  skipped?: boolean
}

/** Zero grads, forward+backward over the micro-batches, clip, one optimizer step at the scheduled rate. */
export class Trainer {
  private readonly o: TrainerOptions

  constructor(options: TrainerOptions) {
    this.o = options
  }

  /** steps taken so far (the optimizer's count, so a restored optimizer resumes the schedule) */
  get step(): number {
    return this.o.optimizer.steps
  }

  async trainStep(batch: Readonly<Record<string, Tensor>>): Promise<StepReport> {
    const { pipeline, params, optimizer, schedule } = this.o
    const step = optimizer.steps
    zeroGrads(params)
    const scaler = this.o.lossScale
    const { loss } = await pipeline.step(batch, {
      microBatches: this.o.microBatches,
      schedule: this.o.pipelineSchedule,
      lossScale: scaler?.scale,
    })
    if (scaler !== undefined && !scaler.unscale(params)) {
      zeroGrads(params)
      return { step, loss, lr: lrAt(schedule, step), gradNorm: Number.NaN, skipped: true }
    }
    const gradNorm =
      this.o.clipNorm !== undefined ? clipGradNorm(params, this.o.clipNorm) : globalGradNorm(params)
    const lr = lrAt(schedule, step)
    optimizer.step(lr)
    return { step, loss, lr, gradNorm }
  }
}
