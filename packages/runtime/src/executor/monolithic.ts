import { buildTrainingGraph, type Graph, type StateUpdate, type Tensor, tensor } from '@atoll/core'
import type { Backend, BackendSession } from '../backend/backend.ts'
import { SessionError } from '../errors.ts'
import type { Parameter } from '../optim/parameter.ts'
import { bindSymbols, ShapeCache } from './bindings.ts'
import { sessionModel } from './compiled-stage.ts'
import { runTakingGradients } from './gradients.ts'
import { stateFeeds, writeBackState } from './state.ts'

/**
 * The whole forward+backward graph as one session (parameters fed as inputs, viewing the
 * Parameters). What `atoll grads` runs, and the baseline the stage executor is measured against.
 */
export class MonolithicTrainer {
  private readonly graph: Graph
  private readonly loss: string
  private readonly backend: Backend
  private readonly params: ReadonlyMap<string, Parameter>
  private readonly compiled = new ShapeCache<
    Readonly<Record<string, Tensor>>,
    { session: BackendSession; grads: Map<string, string>; state: StateUpdate[]; fetches: string[] }
  >((batch) => this.build(batch))
  private readonly intraOpThreads?: number

  constructor(options: {
    backend: Backend
    graph: Graph
    params: ReadonlyMap<string, Parameter>
    loss?: string
    intraOpThreads?: number
  }) {
    this.backend = options.backend
    this.graph = options.graph
    this.params = options.params
    this.loss = options.loss ?? 'loss'
    this.intraOpThreads = options.intraOpThreads
  }

  /** Runs forward and backward on `batch`; adds the gradients into the Parameters and returns the loss. */
  async run(batch: Readonly<Record<string, Tensor>>): Promise<number> {
    const { session, grads, state, fetches } = await this.compiled.get(batch)
    const feeds: Record<string, Tensor> = { ...batch, ...stateFeeds(this.graph, state) }
    for (const name of this.graph.parameters) {
      const p = this.params.get(name)!
      feeds[name] = tensor('float32', p.shape, p.value)
    }
    const { out } = await runTakingGradients(session, feeds, fetches, grads, this.graph, this.params)
    await writeBackState(this.graph, state, out)
    const loss = ((await out[this.loss].read()).data as Float32Array)[0]
    out[this.loss].dispose()
    return loss
  }

  async release(): Promise<void> {
    await this.compiled.clear((c) => c.session.release())
  }

  private async build(batch: Readonly<Record<string, Tensor>>) {
    for (const name of this.graph.parameters) {
      if (!this.params.has(name)) throw new SessionError(`no live parameter for '${name}'`)
    }
    const bindings = bindSymbols(this.graph, batch)
    const { graph: training, backward, state } = buildTrainingGraph(this.graph, this.loss, { bindings })
    // parameters and running statistics are fed live, not baked into the session
    const fed = new Set([...this.graph.parameters, ...state.map((u) => u.state)])
    const params = this.graph.parameters
    const g: Graph = {
      ...training,
      inputs: [
        ...training.inputs,
        ...[...params].map((p) => ({
          name: p,
          dtype: 'float32' as const,
          shape: [...this.params.get(p)!.shape],
        })),
        ...state.map(({ state: s, update }) => ({
          ...training.outputs.find((o) => o.name === update)!,
          name: s,
        })),
      ],
      initializers: new Map([...training.initializers].filter(([k]) => !fed.has(k))),
      parameters: new Set(),
    }
    const model = sessionModel(this.backend, g)
    // everything it returns (loss, gradients, state) is read on the host at once
    const session = await this.backend.createSession(model, {
      intraOpThreads: this.intraOpThreads,
      deviceOutputs: [],
    })
    // the loss, gradients and state; not the logits, whose copy to the host would cost more than the rest
    const fetches = [this.loss, ...backward.gradients.values(), ...state.map((u) => u.update)]
    return { session, grads: backward.gradients, state, fetches }
  }
}
