import type { Graph, StateUpdate } from '@atoll/core'
import type { Backend, BackendSession, Feed, Value } from '../backend/backend.ts'
import { SessionError } from '../errors.ts'
import type { Parameter } from '../optim/parameter.ts'
import { bindSymbols } from './bindings.ts'
import { CompiledStage, sessionModel } from './compiled-stage.ts'
import { boundaryGradOutputs, runTakingGradients } from './gradients.ts'
import type { PipelineStage } from './pipeline-stage.ts'
import { stateFeeds, writeBackState } from './state.ts'
import { type ActivationPolicy, buildStageGraphs, type StageGraphs } from './stage-graphs.ts'

export interface StageExecutorOptions {
  backend: Backend
  /** the stage's forward graph: boundary and data inputs in, boundary outputs (or the loss) out */
  graph: Graph
  /** live parameters by name, for every trainable initializer of `graph` */
  params: ReadonlyMap<string, Parameter>
  /** outputs whose gradients drive backward (default: every graph output) */
  differentiate?: readonly string[]
  /** float boundary inputs whose gradients backward returns (default none) */
  gradInputs?: readonly string[]
  /** what backward keeps from forward and what it recomputes (default 'selective') */
  policy?: ActivationPolicy
  intraOpThreads?: number
  /** running statistics the stage updates (default: found from its training BatchNorms) */
  state?: readonly StateUpdate[]
}

interface Compiled {
  graphs: StageGraphs
  forward: BackendSession
  /** none when the backward computes nothing (no parameters, no differentiable boundary input) */
  backward: BackendSession | undefined
}

/** What forward kept for one micro-batch until its backward. */
interface Pending {
  feeds: Record<string, Feed>
  stash: Record<string, Value>
  compiled: Compiled
}

/**
 * Runs one stage: one forward and one backward session per input-shape signature (compiled on
 * first use, then reused), micro-batches identified by index, parameter gradients accumulated into
 * the Parameters. Parameter feeds view the Parameters' storage, so optimizer updates are seen by
 * the next run without a copy.
 */
export class StageExecutor extends CompiledStage<Compiled, Pending> implements PipelineStage {
  private readonly options: StageExecutorOptions

  constructor(options: StageExecutorOptions) {
    super(options.backend, options.graph, options.params)
    this.options = options
  }

  /** Runs forward for micro-batch `mb`; keeps what backward needs; returns the stage's outputs. */
  async forward(mb: number, feeds: Record<string, Feed>): Promise<Record<string, Value>> {
    this.checkFree(mb)
    const compiled = await this.compiled.get(feeds)
    const state = compiled.graphs.state
    const out = await compiled.forward.run({
      ...feeds,
      ...this.paramFeeds.feeds,
      ...stateFeeds(this.graph, state),
    })
    await writeBackState(this.graph, state, out)
    const stash: Record<string, Value> = {}
    for (const name of compiled.graphs.stashed) stash[name] = out[name]
    this.keep(mb, { feeds, stash, compiled })
    return this.stageOutputs(out)
  }

  /**
   * Runs backward for micro-batch `mb` given the gradients of the differentiated outputs (for a
   * loss, its seed: 1, or 1/M to average over M micro-batches). Adds the parameter gradients into
   * the Parameters and returns the boundary inputs' gradients.
   */
  async backward(mb: number, outputGrads: Record<string, Feed>): Promise<Record<string, Value>> {
    const p = this.take(mb)
    const { graphs, backward } = p.compiled
    const feeds: Record<string, Feed> = {}
    for (const name of graphs.backwardReads) {
      // a recomputing backward also declares the state inputs (its running-update nodes read them)
      const f =
        p.stash[name] ?? p.feeds[name] ?? this.paramFeeds.feeds[name] ?? this.graph.initializers.get(name)
      if (f === undefined)
        throw new SessionError(`backward of '${this.graph.name}' reads '${name}', which nothing provides`)
      feeds[name] = f
    }
    for (const [value, seed] of graphs.seeds) {
      const g = outputGrads[value]
      if (g === undefined)
        throw new SessionError(`backward of '${this.graph.name}' needs the gradient of '${value}'`)
      feeds[seed] = g
    }
    if (backward === undefined) {
      this.dispose(p)
      return {}
    }
    const { params } = this.options
    const taken = await runTakingGradients(backward, feeds, undefined, graphs.gradients, this.graph, params)
    this.dispose(p)
    return taken.inputGrads
  }

  /** Frees stashed activations; the stage's own outputs belong to the caller, who frees them. */
  protected dispose(pending: Pending): void {
    for (const [name, v] of Object.entries(pending.stash)) {
      if (!this.graph.outputs.some((o) => o.name === name)) v.dispose()
    }
  }

  protected async releaseCompiled({ forward, backward }: Compiled): Promise<void> {
    await Promise.all([forward.release(), backward?.release()])
  }

  protected async build(feeds: Record<string, Feed>): Promise<Compiled> {
    const { backend, differentiate, gradInputs, policy = 'selective', intraOpThreads, state } = this.options
    const bindings = bindSymbols(this.graph, feeds)
    const graphs = buildStageGraphs(this.graph, {
      differentiate: differentiate ?? this.graph.outputs.map((o) => o.name),
      gradInputs,
      bindings,
      policy,
      state,
    })
    const session = (g: Graph, deviceOutputs: string[]) =>
      backend.createSession(sessionModel(backend, g), { intraOpThreads, deviceOutputs })
    // activations and boundary gradients stay on a GPU; parameter gradients and state come to the host
    // a stage that only moves data along (e.g. reshapes the targets for the loss stage) has an empty
    // backward, which onnxruntime will not load: it gets none
    const [forward, backward] = await Promise.all([
      session(graphs.forward, [...this.graph.outputs.map((o) => o.name), ...graphs.stashed]),
      graphs.backward.outputs.length === 0
        ? undefined
        : session(graphs.backward, boundaryGradOutputs(graphs.gradients, this.graph)),
    ])
    return { graphs, forward, backward }
  }
}
