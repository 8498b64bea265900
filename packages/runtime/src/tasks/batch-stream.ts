/**
 * Batch streams over data already in memory: batch k is a pure function of (seed, k), so a resumed
 * run sees exactly the batches it would have, and a browser client and a Node client given the same
 * images and seed train on the same batches. Browser-safe: where the data comes from (npm packages
 * on Node, a bundled shard in a page) is the caller's business.
 */
import { numel, type Tensor, type ValueInfo } from '@atoll/core'
import { type ImageSet, imageBatch, type Normalisation, UNIT_RANGE } from '../data/images.ts'
import { epochOrder } from '../data/partition.ts'
import type { ImageDatasetName } from '../data/sources.ts'
import { TaskInputError } from '../errors.ts'

/** Per-dataset pixel statistics (the usual torchvision values), so inputs are standardised. */
export const IMAGE_NORMS: Readonly<Record<ImageDatasetName, Normalisation>> = {
  mnist: { mean: 0.1307, std: 0.3081 },
  'fashion-mnist': { mean: 0.286, std: 0.353 },
}

/** The statistics of the dataset named `dataset` where it is one of IMAGE_NORMS', else pixels in [0, 1]. */
export function imageNormalisation(dataset: string): Normalisation {
  return Object.hasOwn(IMAGE_NORMS, dataset) ? IMAGE_NORMS[dataset as ImageDatasetName] : UNIT_RANGE
}

export interface BatchStream {
  /** samples in the split */
  count: number
  batchSize: number
  /** whole batches per epoch (a partial last batch is dropped) */
  batchesPerEpoch: number
  /** training batch k: shuffled per epoch by the seed */
  shuffled(k: number): Record<string, Tensor>
  /** evaluation batch k in storage order, k < batchesPerEpoch */
  ordered(k: number): Record<string, Tensor>
}

export interface BatchStreamOptions {
  batchSize: number
  /** the shuffle's seed (default 0) */
  seed?: number
}

/** Batches of `count` samples, gathered by index: shuffled per epoch, or in storage order. */
export function batchStream(
  count: number,
  options: BatchStreamOptions,
  gather: (indices: Uint32Array) => Record<string, Tensor>,
): BatchStream {
  const B = options.batchSize
  const batchesPerEpoch = Math.floor(count / B)
  if (!Number.isInteger(B) || B < 1 || batchesPerEpoch === 0) {
    throw new TaskInputError(`a batch size of ${B} does not fit ${count} samples`)
  }
  const indices = new Uint32Array(B)
  // the last epoch's order: a permutation of every sample, made once per epoch rather than per batch
  let cached: { epoch: number; order: Uint32Array } | undefined
  const orderOf = (epoch: number) => {
    if (cached?.epoch !== epoch) cached = { epoch, order: epochOrder(count, options.seed ?? 0, epoch) }
    return cached.order
  }
  return {
    count,
    batchSize: B,
    batchesPerEpoch,
    shuffled(k) {
      const order = orderOf(Math.floor(k / batchesPerEpoch))
      const start = (k % batchesPerEpoch) * B
      return gather(order.subarray(start, start + B))
    },
    ordered(k) {
      for (let i = 0; i < B; i++) indices[i] = k * B + i
      return gather(indices)
    },
  }
}

/**
 * Batches of `set` for the model input `input` (flat [B, H·W] or NCHW: same bytes, other shape) and
 * int64 `targets`, standardised by `norm`.
 */
export function imageStream(
  set: ImageSet,
  norm: Normalisation,
  input: ValueInfo,
  options: BatchStreamOptions,
): BatchStream {
  const shape = input.shape
  const pixels = set.height * set.width
  const rest = (shape ?? []).slice(1)
  if (rest.some((d) => typeof d !== 'number') || numel(rest as number[]) !== pixels) {
    throw new TaskInputError(
      `${set.name} images are 1×${set.height}×${set.width}; the model's input is [${shape}]`,
    )
  }
  return batchStream(set.count, options, (indices) => {
    const b = imageBatch(set, indices, norm)
    const x = { ...b.inputs, shape: [indices.length, ...(rest as number[])] }
    return { [input.name]: x, targets: b.targets }
  })
}
