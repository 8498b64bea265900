import { type Graph, type Tensor, tensor } from '@atoll/core'
import type { Backend, Feed, Value } from '../backend/backend.ts'
import { SessionError } from '../errors.ts'
import type { Parameter } from '../optim/parameter.ts'

/**
 * What a stage feeds for its parameters: views of the live weights (no copy; an optimizer update
 * is seen by the next run), or on a GPU backend their device copies, made once when a step begins
 * and shared by every micro-batch's forward and backward until it ends. Weights change only
 * between steps, so a copy never goes stale within one.
 */
export class ParameterFeeds {
  readonly #host: Record<string, Tensor> = {}
  readonly #backend: Backend
  #device: Record<string, Value> | undefined

  constructor(backend: Backend, graph: Graph, params: ReadonlyMap<string, Parameter>) {
    this.#backend = backend
    for (const name of graph.parameters) {
      const p = params.get(name)
      if (p === undefined) throw new SessionError(`no live parameter for '${name}'`)
      this.#host[name] = tensor('float32', p.shape, p.value)
    }
  }

  get feeds(): Readonly<Record<string, Feed>> {
    return this.#device ?? this.#host
  }

  /** Copies the weights to the device, when the backend has one. */
  async beginStep(): Promise<void> {
    this.endStep()
    if (this.#backend.toDevice !== undefined) this.#device = await this.#backend.toDevice(this.#host)
  }

  /** Frees the device copies; feeds are host views again. */
  endStep(): void {
    for (const v of Object.values(this.#device ?? {})) v.dispose()
    this.#device = undefined
  }
}
