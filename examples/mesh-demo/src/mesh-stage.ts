/** A pipeline stage that lives on a site: its boundary inputs arrive over the mesh, their gradients leave over it. */
import type { Graph } from '@atoll/core'
import { type Feed, hostValue, type PipelineStage, type Value } from '@atoll/runtime'
import type { Courier, LinkCodec } from './courier.ts'
import type { Site } from './sites.ts'

export interface MeshStageOptions {
  courier: Courier
  /** the site of the stage before this one, which produces its boundary inputs */
  upstream: Site
  /** this stage's site */
  site: Site
  codec: LinkCodec
  /** graph inputs fed from the batch on this site (token ids, targets), not from upstream */
  dataInputs: ReadonlySet<string>
}

/**
 * Wraps a stage so that the pipeline's hand-over crosses a real link: forward receives each
 * boundary input from the upstream site, backward sends each boundary gradient back to it.
 */
export class MeshStage implements PipelineStage {
  readonly graph: Graph
  readonly #inner: PipelineStage
  readonly #o: MeshStageOptions
  readonly codec: LinkCodec
  #step = -1

  constructor(inner: PipelineStage, options: MeshStageOptions) {
    this.#inner = inner
    this.#o = options
    this.codec = options.codec
    this.graph = inner.graph
  }

  get signatures(): number {
    return this.#inner.signatures
  }

  async beginStep(): Promise<void> {
    this.#step++
    await this.#inner.beginStep()
  }

  endStep(): void {
    this.#inner.endStep()
  }

  async forward(mb: number, feeds: Record<string, Feed>, seeds?: Record<string, Feed>) {
    const arrived: Record<string, Feed> = { ...feeds }
    for (const name of Object.keys(feeds)) {
      if (this.#o.dataInputs.has(name)) continue
      arrived[name] = await this.#move(this.#o.upstream, this.#o.site, mb, name, feeds[name])
    }
    return this.#inner.forward(mb, arrived, seeds)
  }

  async backward(mb: number, outputGrads: Record<string, Feed>): Promise<Record<string, Value>> {
    const grads = await this.#inner.backward(mb, outputGrads)
    const sent: Record<string, Value> = {}
    for (const [name, g] of Object.entries(grads)) {
      sent[name] = hostValue(await this.#move(this.#o.site, this.#o.upstream, mb, `grad.${name}`, g))
      g.dispose()
    }
    return sent
  }

  reset(): void {
    this.#inner.reset()
  }

  release(): Promise<void> {
    return this.#inner.release()
  }

  async #move(from: Site, to: Site, mb: number, edge: string, feed: Feed) {
    const t = 'read' in feed ? await (feed as Value).read() : feed
    return this.#o.courier.carry(from, to, { job: 'demo', step: this.#step, mb, edge }, t, this.#o.codec)
  }
}
