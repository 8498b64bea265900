/**
 * Parameters packed into buckets: contiguous Float32Arrays of whole parameters, each about
 * `bucketBytes`, so that a model of many small tensors costs a few all-reduces rather than one per
 * tensor, and a large model still starts sending before all of it is packed. Buckets follow backward
 * order (the last parameter first), as PyTorch DDP's do. Packing copies: a collective's input must
 * not change while it runs, and the training loop goes on writing the parameters.
 */
import type { Parameter } from '@atoll/runtime'
import { SynchronizerUsageError } from './errors.ts'

/** One parameter's place in a bucket. */
export interface BucketSlot {
  param: number
  offset: number
  length: number
}

export interface Bucket {
  /** the collective's name: `<prefix><index>`, the same every round (top-k's residuals are kept per name) */
  name: string
  slots: BucketSlot[]
  /** the packed values, reused round after round */
  data: Float32Array
}

/**
 * The buckets of `params` (indices into it): in backward order, a new bucket whenever the next
 * parameter would take the current one past `bucketBytes` (a parameter larger than that gets one
 * of its own).
 */
export function planBuckets(params: readonly Parameter[], bucketBytes: number, prefix: string): Bucket[] {
  const buckets: Bucket[] = []
  let slots: BucketSlot[] = []
  let elements = 0
  const close = () => {
    if (slots.length === 0) return
    buckets.push({ name: `${prefix}${buckets.length}`, slots, data: new Float32Array(elements) })
    slots = []
    elements = 0
  }
  for (let param = params.length - 1; param >= 0; param--) {
    const length = params[param].value.length
    if (elements > 0 && 4 * (elements + length) > bucketBytes) close()
    slots.push({ param, offset: elements, length })
    elements += length
  }
  close()
  return buckets
}

/** Copies each slot's source (a parameter's values, gradient, or a buffer beside it) into the bucket. */
export function packBucket(bucket: Bucket, source: (param: number) => Float32Array): Float32Array {
  for (const slot of bucket.slots) bucket.data.set(source(slot.param), slot.offset)
  return bucket.data
}

/** Calls `apply` with each slot's part of `values` (a bucket's result), a view, no copy. */
export function eachSlot(
  bucket: Bucket,
  values: Float32Array,
  apply: (param: number, part: Float32Array) => void,
): void {
  for (const slot of bucket.slots) apply(slot.param, values.subarray(slot.offset, slot.offset + slot.length))
}

/**
 * The buckets for `params`, planned once and kept while the same parameters come back (a hook is
 * called every step with the same list); a different list is a caller's mistake, not a new plan.
 */
export class BucketCache {
  readonly #bytes: number
  readonly #prefix: string
  #shape: string | undefined
  #buckets: Bucket[] = []

  constructor(bucketBytes: number, prefix: string) {
    this.#bytes = bucketBytes
    this.#prefix = prefix
  }

  of(params: readonly Parameter[]): Bucket[] {
    const shape = params.map((p) => `${p.name}:${p.value.length}`).join(',')
    if (this.#shape === undefined) {
      this.#shape = shape
      this.#buckets = planBuckets(params, this.#bytes, this.#prefix)
    } else if (shape !== this.#shape) {
      throw new SynchronizerUsageError(
        `parameters: expected the same names and sizes every step (${this.#shape.slice(0, 80)}…), found ${shape.slice(0, 80)}…`,
      )
    }
    return this.#buckets
  }
}
