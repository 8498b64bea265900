import type { Graph, StateUpdate } from '@atoll/core'
import type { Backend, BackendSession, Feed, Value } from '../backend/backend.ts'
import { SessionError } from '../errors.ts'
import type { Parameter } from '../optim/parameter.ts'
import { bindSymbols } from './bindings.ts'
import { CompiledStage, sessionModel } from './compiled-stage.ts'
import { boundaryGradOutputs, runTakingGradients } from './gradients.ts'
import type { PipelineStage } from './pipeline-stage.ts'
import { buildFusedGraph, type FusedStageGraph } from './stage-graphs.ts'
import { stateFeeds, writeBackState } from './state.ts'

export interface FusedStageOptions {
  backend: Backend
  /** the stage's forward graph, holding the loss */
  graph: Graph
  params: ReadonlyMap<string, Parameter>
  /** the loss output */
  loss: string
  /** float boundary inputs whose gradients go upstream */
  gradInputs?: readonly string[]
  intraOpThreads?: number
  /** running statistics the stage updates (default: found from its training BatchNorms) */
  state?: readonly StateUpdate[]
}

interface Compiled {
  fused: FusedStageGraph
  session: BackendSession
  /** what a step reads: all but the stage's other forward outputs (logits), which no later stage consumes */
  fetches: string[]
}

/**
 * The loss stage as one forward+backward session per shape signature. Forward runs both
 * directions with the loss seed it is given, adds the parameter gradients at once, and keeps only
 * the boundary inputs' gradients until backward asks for them: no activation is stashed. Its other
 * forward outputs (a model's logits) are not fetched: on a backend whose outputs come to the host
 * that copy was the largest of a step (GPT-2 small's logits at 4×1024 tokens: 800 MB).
 */
export class FusedLossStage extends CompiledStage<Compiled, Record<string, Value>> implements PipelineStage {
  private readonly o: FusedStageOptions

  constructor(options: FusedStageOptions) {
    super(options.backend, options.graph, options.params)
    this.o = options
  }

  async forward(
    mb: number,
    feeds: Record<string, Feed>,
    seeds?: Record<string, Feed>,
  ): Promise<Record<string, Value>> {
    const seed = seeds?.[this.o.loss]
    if (seed === undefined)
      throw new SessionError(`the fused loss stage needs the seed of '${this.o.loss}' at forward`)
    this.checkFree(mb)
    const { fused, session, fetches } = await this.compiled.get(feeds)
    const seedFeed = { [fused.seeds.get(this.o.loss)!]: seed }
    const state = stateFeeds(this.graph, fused.state)
    const all = { ...feeds, ...this.paramFeeds.feeds, ...state, ...seedFeed }
    const { out, inputGrads } = await runTakingGradients(
      session,
      all,
      fetches,
      fused.gradients,
      this.graph,
      this.o.params,
    )
    await writeBackState(this.graph, fused.state, out)
    this.keep(mb, inputGrads)
    return { [this.o.loss]: out[this.o.loss] }
  }

  /** The boundary inputs' gradients, computed at forward. */
  async backward(mb: number): Promise<Record<string, Value>> {
    return this.take(mb)
  }

  protected dispose(grads: Record<string, Value>): void {
    for (const v of Object.values(grads)) v.dispose()
  }

  protected releaseCompiled(compiled: Compiled): Promise<void> {
    return compiled.session.release()
  }

  protected async build(feeds: Record<string, Feed>): Promise<Compiled> {
    const { backend, loss, gradInputs, intraOpThreads, state } = this.o
    const fused = buildFusedGraph(this.graph, {
      differentiate: [loss],
      gradInputs,
      bindings: bindSymbols(this.graph, feeds),
      state,
    })
    const model = sessionModel(backend, fused.graph)
    const forwardOnly = new Set(this.graph.outputs.map((o) => o.name).filter((o) => o !== loss))
    const fetches = fused.graph.outputs.map((o) => o.name).filter((o) => !forwardOnly.has(o))
    // boundary gradients stay on a GPU; the loss, parameter gradients and state come to the host
    const deviceOutputs = boundaryGradOutputs(fused.gradients, this.graph)
    const session = await backend.createSession(model, { intraOpThreads, deviceOutputs })
    return { fused, session, fetches }
  }
}
