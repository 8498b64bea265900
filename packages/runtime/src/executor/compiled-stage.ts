import { exportOnnx, type Graph } from '@atoll/core'
import type { Backend, Feed, SessionModel, Value } from '../backend/backend.ts'
import { SessionError } from '../errors.ts'
import type { Parameter } from '../optim/parameter.ts'
import { ShapeCache } from './bindings.ts'
import { ParameterFeeds } from './parameter-feeds.ts'

/** `g` in the form `backend` compiles: ONNX bytes, or the graph itself (reference interpreter). */
export function sessionModel(backend: Backend, graph: Graph): SessionModel {
  return backend.format === 'onnx' ? { onnx: exportOnnx(graph) } : { graph }
}

/**
 * What every pipeline stage kind shares: sessions compiled per input-shape signature (`C`, built
 * on first use, then reused), the parameter feeds, and what each micro-batch in flight keeps from
 * its forward until its backward (`P`). A micro-batch started twice, or a backward with no
 * forward, is a SessionError naming the stage.
 */
export abstract class CompiledStage<C, P> {
  readonly graph: Graph
  protected readonly paramFeeds: ParameterFeeds
  protected readonly compiled = new ShapeCache<Record<string, Feed>, C>((feeds) => this.build(feeds))
  readonly #pending = new Map<number, P>()

  constructor(backend: Backend, graph: Graph, params: ReadonlyMap<string, Parameter>) {
    this.graph = graph
    this.paramFeeds = new ParameterFeeds(backend, graph, params)
  }

  /** sessions compiled so far (one set per input-shape signature) */
  get signatures(): number {
    return this.compiled.size
  }

  beginStep(): Promise<void> {
    return this.paramFeeds.beginStep()
  }

  endStep(): void {
    this.paramFeeds.endStep()
  }

  /** Drops every in-flight micro-batch (after a failure) so the next step starts clean. */
  reset(): void {
    for (const kept of this.#pending.values()) this.dispose(kept)
    this.#pending.clear()
  }

  async release(): Promise<void> {
    this.reset()
    await this.compiled.clear((c) => this.releaseCompiled(c))
  }

  /** Compiles the sessions for the shapes of `feeds`. */
  protected abstract build(feeds: Record<string, Feed>): Promise<C>
  protected abstract releaseCompiled(compiled: C): Promise<void>
  /** Frees what a dropped micro-batch kept. */
  protected abstract dispose(kept: P): void

  /** Throws when micro-batch `mb` is already in flight. */
  protected checkFree(mb: number): void {
    if (this.#pending.has(mb))
      throw new SessionError(`micro-batch ${mb} is already in flight on stage '${this.graph.name}'`)
  }

  protected keep(mb: number, kept: P): void {
    this.#pending.set(mb, kept)
  }

  /** What micro-batch `mb`'s forward kept, handed over once. */
  protected take(mb: number): P {
    const kept = this.#pending.get(mb)
    if (kept === undefined)
      throw new SessionError(`micro-batch ${mb} has no forward on stage '${this.graph.name}'`)
    this.#pending.delete(mb)
    return kept
  }

  /** The stage graph's own outputs among a session's. */
  protected stageOutputs(out: Record<string, Value>): Record<string, Value> {
    const result: Record<string, Value> = {}
    for (const o of this.graph.outputs) result[o.name] = out[o.name]
    return result
  }
}
