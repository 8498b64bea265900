/**
 * Local SGD: every replica trains on its own for H steps, then the replicas' parameters are averaged
 * (after steps H−1, 2H−1, …), in buckets of about `bucketBytes`, all issued at once. The optimizer's
 * state stays each replica's own. A replica left out of a round keeps its own parameters and is
 * averaged in again H steps later, which brings it back in step (if its values were in the mean
 * after all, it applies the mean as the others did).
 */
import type { Parameter } from '@atoll/runtime'
import type { SyncGroup } from '../group.ts'
import { SynchronizerBase } from './base.ts'
import { BucketCache, eachSlot, packBucket } from './buckets.ts'
import { DEFAULT_BUCKET_BYTES } from './constants.ts'
import type { SynchronizerSpec } from './spec.ts'
import type { SynchronizerOptions } from './synchronizer.ts'

export class LocalSgdSynchronizer extends SynchronizerBase {
  readonly #buckets: BucketCache

  constructor(spec: SynchronizerSpec, group: SyncGroup, options: SynchronizerOptions) {
    super(spec, group, options)
    this.#buckets = new BucketCache(options.bucketBytes ?? DEFAULT_BUCKET_BYTES, 'p')
  }

  async gradients(): Promise<void> {}

  async parameters(step: number, params: readonly Parameter[]): Promise<void> {
    if ((step + 1) % this.spec.period !== 0) return
    const buckets = this.#buckets.of(params)
    const tensors = buckets.map((b) => ({ name: b.name, data: packBucket(b, (i) => params[i].value) }))
    const result = await this.runNextRound({
      step,
      what: 'parameters',
      tensors,
      compression: this.spec.compression,
    })
    const means = result.means
    if (means === undefined) return
    for (const b of buckets)
      eachSlot(b, means.get(b.name) as Float32Array, (i, mean) => params[i].value.set(mean))
  }

  protected stateTemplate(): Map<string, number> {
    return new Map()
  }

  protected stateTensors(): Map<string, Float32Array> {
    return new Map()
  }

  protected loadState(): void {}
}
