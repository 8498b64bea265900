/**
 * S-SGD: after every backward, each parameter's gradient becomes the mean of the replicas'. The
 * gradients are packed into buckets of about `bucketBytes` in backward order, and every bucket is one
 * named all-reduce; all of a step's buckets are issued at once and overlap one another on the links.
 * (In this runtime backward is one session run, so nothing can start before it ends: "overlapped
 * with backward" means here that the buckets overlap each other, not the compute.)
 *
 * A replica left out of a round asks a member that took part for the round's mean and applies it,
 * dropping its own gradient, so that every replica applies the same update and the replicas stay
 * equal — as a backup worker of synchronous SGD does; without an answer it steps on its own gradient
 * and the event log says it diverged.
 */
import type { Parameter } from '@atoll/runtime'
import type { SyncGroup } from '../group.ts'
import { SynchronizerBase } from './base.ts'
import { BucketCache, eachSlot, packBucket } from './buckets.ts'
import { DEFAULT_BUCKET_BYTES } from './constants.ts'
import type { SynchronizerSpec } from './spec.ts'
import type { SynchronizerOptions } from './synchronizer.ts'

export class SsgdSynchronizer extends SynchronizerBase {
  readonly #buckets: BucketCache

  constructor(spec: SynchronizerSpec, group: SyncGroup, options: SynchronizerOptions) {
    super(spec, group, options)
    this.#buckets = new BucketCache(options.bucketBytes ?? DEFAULT_BUCKET_BYTES, 'g')
  }

  async gradients(step: number, params: readonly Parameter[]): Promise<void> {
    const buckets = this.#buckets.of(params)
    const tensors = buckets.map((b) => ({ name: b.name, data: packBucket(b, (i) => params[i].grad) }))
    const result = await this.runNextRound({
      step,
      what: 'gradients',
      tensors,
      compression: this.spec.compression,
      adopt: true,
    })
    const means = result.means
    if (means === undefined) return
    for (const b of buckets)
      eachSlot(b, means.get(b.name) as Float32Array, (i, mean) => params[i].grad.set(mean))
  }

  async parameters(): Promise<void> {}

  protected stateTemplate(): Map<string, number> {
    return new Map()
  }

  protected stateTensors(): Map<string, Float32Array> {
    return new Map()
  }

  protected loadState(): void {}
}
