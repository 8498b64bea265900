import type { Graph, StateUpdate } from '@atoll/core'
import type { Backend, BackendSession, Feed, Value } from '../backend/backend.ts'
import { SessionError } from '../errors.ts'
import type { Parameter } from '../optim/parameter.ts'
import { bindSymbols, ShapeCache } from './bindings.ts'
import { boundaryGradOutputs, takeGradients } from './gradients.ts'
import type { PipelineStage } from './pipeline-stage.ts'
import { buildFusedGraph, type FusedStageGraph } from './stage-graphs.ts'
import { ParameterFeeds } from './parameter-feeds.ts'
import { stateFeeds, writeBackState } from './state.ts'
import { toOnnx } from './stage.ts'

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
}

/**
 * The loss stage as one forward+backward session per shape signature. Forward runs both
 * directions with the loss seed it is given, adds the parameter gradients at once, and keeps only
 * the boundary inputs' gradients until backward asks for them: no activation is stashed.
 */
export class FusedLossStage implements PipelineStage {
  readonly graph: Graph
  private readonly o: FusedStageOptions
  private readonly compiled = new ShapeCache<Record<string, Feed>, Compiled>((feeds) => this.build(feeds))
  private readonly pending = new Map<number, Record<string, Value>>()
  private readonly paramFeeds: ParameterFeeds

  constructor(options: FusedStageOptions) {
    this.o = options
    this.graph = options.graph
    this.paramFeeds = new ParameterFeeds(options.backend, options.graph, options.params)
  }

  get signatures(): number {
    return this.compiled.size
  }

  async forward(
    mb: number,
    feeds: Record<string, Feed>,
    seeds?: Record<string, Feed>,
  ): Promise<Record<string, Value>> {
    const seed = seeds?.[this.o.loss]
    if (seed === undefined)
      throw new SessionError(`the fused loss stage needs the seed of '${this.o.loss}' at forward`)
    if (this.pending.has(mb))
      throw new SessionError(`micro-batch ${mb} is already in flight on stage '${this.graph.name}'`)
    const { fused, session } = await this.compiled.get(feeds)
    const seedFeed = { [fused.seeds.get(this.o.loss)!]: seed }
    const state = stateFeeds(this.graph, fused.state)
    const out = await session.run({ ...feeds, ...this.paramFeeds.feeds, ...state, ...seedFeed })
    await writeBackState(this.graph, fused.state, out)
    this.pending.set(mb, await takeGradients(out, fused.gradients, this.graph, this.o.params))
    const result: Record<string, Value> = {}
    for (const o of this.graph.outputs) result[o.name] = out[o.name]
    return result
  }

  async backward(mb: number): Promise<Record<string, Value>> {
    const grads = this.pending.get(mb)
    if (grads === undefined)
      throw new SessionError(`micro-batch ${mb} has no forward on stage '${this.graph.name}'`)
    this.pending.delete(mb)
    return grads
  }

  beginStep(): Promise<void> {
    return this.paramFeeds.beginStep()
  }

  endStep(): void {
    this.paramFeeds.endStep()
  }

  reset(): void {
    for (const grads of this.pending.values()) for (const v of Object.values(grads)) v.dispose()
    this.pending.clear()
  }

  async release(): Promise<void> {
    this.reset()
    await this.compiled.clear((c) => c.session.release())
  }

  private async build(feeds: Record<string, Feed>): Promise<Compiled> {
    const { backend, loss, gradInputs, intraOpThreads, state } = this.o
    const fused = buildFusedGraph(this.graph, {
      differentiate: [loss],
      gradInputs,
      bindings: bindSymbols(this.graph, feeds),
      state,
    })
    const model = backend.format === 'onnx' ? { onnx: toOnnx(fused.graph) } : { graph: fused.graph }
    // boundary outputs and gradients stay on a GPU; the loss, parameter gradients and state come to the host
    const deviceOutputs = [
      ...this.graph.outputs.map((o) => o.name).filter((o) => o !== loss),
      ...boundaryGradOutputs(fused.gradients, this.graph),
    ]
    return { fused, session: await backend.createSession(model, { intraOpThreads, deviceOutputs }) }
  }
}
