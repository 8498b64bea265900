/**
 * DiLoCo (Douillard et al. 2023): the inner optimizer (the caller's, AdamW in the paper) runs H steps
 * on each replica from the anchor θ_start; then the pseudo-gradient Δ = θ_start − θ_local is
 * all-reduced (optionally int8) and averaged, an outer Nesterov SGD step moves the anchor by it, and
 * every replica restarts from the new anchor. The outer momentum persists across rounds.
 *
 * The outer step is PyTorch's SGD(nesterov=True, dampening 0): b ← μb + Δ (b starts at 0, so the first
 * step's b is Δ as in PyTorch), θ_start ← θ_start − lr (Δ + μb), each intermediate rounded to float32.
 * It is written here rather than taken from @atoll/runtime's sgd because @atoll/sync must stay
 * browser-safe and the runtime's entry point is not.
 *
 * A replica left out of a round asks a member that took part for the round's mean pseudo-gradient
 * and moves its anchor and momentum with it, so that all anchors stay equal; it keeps its own local
 * parameters, whose progress enters the next round's average.
 */
import type { Parameter } from '@atoll/runtime'
import type { SyncCompression } from '../codec.ts'
import type { SyncGroup } from '../group.ts'
import { SynchronizerBase } from './base.ts'
import { type Bucket, BucketCache, eachSlot } from './buckets.ts'
import { DEFAULT_BUCKET_BYTES } from './constants.ts'
import { SynchronizerUsageError } from './errors.ts'
import type { OuterOptimizerSpec, SynchronizerSpec } from './spec.ts'
import type { SynchronizerOptions } from './synchronizer.ts'

const ANCHOR = '.outer_anchor'
const MOMENTUM = '.outer_momentum'

export class DilocoSynchronizer extends SynchronizerBase {
  readonly #buckets: BucketCache
  readonly #outer: OuterOptimizerSpec
  readonly #compression: SyncCompression
  /** θ_start and the outer momentum buffer, by parameter name */
  #anchor = new Map<string, Float32Array>()
  #momentum = new Map<string, Float32Array>()

  constructor(spec: SynchronizerSpec, group: SyncGroup, options: SynchronizerOptions) {
    super(spec, group, options)
    this.#buckets = new BucketCache(options.bucketBytes ?? DEFAULT_BUCKET_BYTES, 'd')
    this.#outer = spec.outer ?? { lr: 0.7, momentum: 0.9 }
    this.#compression = spec.int8PseudoGradients ? { codec: 'int8' } : spec.compression
  }

  /** Before the first inner step, the anchor is where the replica starts. */
  async gradients(_step: number, params: readonly Parameter[]): Promise<void> {
    if (this.#anchor.size > 0) return
    for (const p of params) {
      this.#anchor.set(p.name, Float32Array.from(p.value))
      this.#momentum.set(p.name, new Float32Array(p.value.length))
    }
  }

  async parameters(step: number, params: readonly Parameter[]): Promise<void> {
    if ((step + 1) % this.spec.period !== 0) return
    if (params.some((p) => !this.#anchor.has(p.name)))
      throw new SynchronizerUsageError(
        'diloco: call gradients() before each optimizer step (it sets the anchor)',
      )
    const buckets = this.#buckets.of(params)
    const tensors = buckets.map((b) => ({ name: b.name, data: this.#packDelta(b, params) }))
    const result = await this.runNextRound({
      step,
      what: 'pseudo-gradients',
      tensors,
      compression: this.#compression,
      adopt: true,
    })
    const means = result.means
    if (means === undefined) return
    for (const b of buckets) {
      eachSlot(b, means.get(b.name) as Float32Array, (i, delta) => {
        const anchor = this.#anchor.get(params[i].name) as Float32Array
        outerNesterovStep(anchor, this.#momentum.get(params[i].name) as Float32Array, delta, this.#outer)
        if (result.included) params[i].value.set(anchor)
      })
    }
  }

  /** Δ = θ_start − θ_local of the bucket's parameters, packed. */
  #packDelta(bucket: Bucket, params: readonly Parameter[]): Float32Array {
    for (const slot of bucket.slots) {
      const anchor = this.#anchor.get(params[slot.param].name) as Float32Array
      const local = params[slot.param].value
      for (let i = 0; i < slot.length; i++) bucket.data[slot.offset + i] = anchor[i] - local[i]
    }
    return bucket.data
  }

  protected stateTemplate(params: readonly Parameter[]): Map<string, number> {
    return new Map(
      params.flatMap((p) => [
        [`${p.name}${ANCHOR}`, p.value.length],
        [`${p.name}${MOMENTUM}`, p.value.length],
      ]),
    )
  }

  protected stateTensors(): Map<string, Float32Array> {
    const tensors = new Map<string, Float32Array>()
    for (const [name, anchor] of this.#anchor) {
      tensors.set(`${name}${ANCHOR}`, anchor)
      tensors.set(`${name}${MOMENTUM}`, this.#momentum.get(name) as Float32Array)
    }
    return tensors
  }

  protected loadState(tensors: ReadonlyMap<string, Float32Array>): void {
    this.#anchor = new Map()
    this.#momentum = new Map()
    for (const [key, values] of tensors) {
      const into = key.endsWith(ANCHOR) ? this.#anchor : key.endsWith(MOMENTUM) ? this.#momentum : undefined
      if (into === undefined) throw new SynchronizerUsageError(`state: '${key}' is not DiLoCo's`)
      into.set(key.slice(0, key.lastIndexOf('.')), Float32Array.from(values))
    }
  }
}

/** One outer step of Nesterov SGD on `anchor` with gradient `delta` (PyTorch's, dampening 0). */
function outerNesterovStep(
  anchor: Float32Array,
  momentum: Float32Array,
  delta: Float32Array,
  outer: OuterOptimizerSpec,
): void {
  const { lr, momentum: mu } = outer
  for (let i = 0; i < anchor.length; i++) {
    const g = delta[i]
    const b = Math.fround(mu * momentum[i] + g)
    momentum[i] = b
    anchor[i] = anchor[i] - lr * Math.fround(g + mu * b)
  }
}
