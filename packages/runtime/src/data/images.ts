import { type Tensor, tensor } from '@atoll/core'
import { int32Words, sampleAt, writeInt64 } from './batch.ts'
import { epochOrder } from './partition.ts'

/** Labelled greyscale images, stored as bytes (a quarter of float32's memory). */
export interface ImageSet {
  readonly name: string
  /** count × height × width pixels, 0…255, row-major */
  readonly pixels: Uint8Array
  readonly labels: Uint8Array
  readonly count: number
  readonly height: number
  readonly width: number
  readonly classes: number
}

export interface ImageBatch {
  /** float32 [B, 1, H, W], (pixel/255 − mean) / std */
  inputs: Tensor<'float32'>
  /** int64 [B] class indices */
  targets: Tensor<'int64'>
}

export interface Normalisation {
  mean: number
  std: number
}

/** Pixels scaled to [0, 1] and left there; pass dataset statistics to standardise instead. */
export const UNIT_RANGE: Normalisation = { mean: 0, std: 1 }

/**
 * Gathers images `indices` into an NCHW float32 batch and int64 targets. Pass the previous batch as
 * `reuse` to write into its buffers.
 */
export function imageBatch(
  set: ImageSet,
  indices: ArrayLike<number>,
  norm: Normalisation = UNIT_RANGE,
  reuse?: ImageBatch,
): ImageBatch {
  const size = set.height * set.width
  const fits = reuse !== undefined && reuse.targets.data.length === indices.length
  const batch = fits
    ? reuse
    : {
        inputs: tensor(
          'float32',
          [indices.length, 1, set.height, set.width],
          new Float32Array(indices.length * size),
        ),
        targets: tensor('int64', [indices.length], new BigInt64Array(indices.length)),
      }
  const scale = 1 / (255 * norm.std)
  const shift = norm.mean / norm.std
  const out = batch.inputs.data
  const targets = int32Words(batch.targets)
  for (let b = 0; b < indices.length; b++) {
    const i = sampleAt(indices, b, set.count, 'image')
    const src = i * size
    const dst = b * size
    for (let k = 0; k < size; k++) out[dst + k] = set.pixels[src + k] * scale - shift
    writeInt64(targets, b, set.labels[i])
  }
  return batch
}

/** The seed of the held-out choice: fixed, so that every evaluation of a dataset scores the same images. */
const HELD_OUT_SEED = 0

/**
 * `samples` images of a test set (default all), in a fixed seeded order: the test sets are stored
 * class by class, so their first images (a few evaluation batches, or the first N) would score a
 * model on one or two classes only.
 */
export function heldOutImages(testSet: ImageSet, samples = testSet.count): ImageSet {
  const chosen = epochOrder(testSet.count, HELD_OUT_SEED, 0).subarray(0, Math.min(samples, testSet.count))
  return subsetImages(testSet, chosen)
}

/** A subset of an image set (copies the chosen images: shards are small and then independent). */
export function subsetImages(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const size = set.height * set.width
  const pixels = new Uint8Array(indices.length * size)
  const labels = new Uint8Array(indices.length)
  for (let b = 0; b < indices.length; b++) {
    const i = sampleAt(indices, b, set.count, 'image')
    pixels.set(set.pixels.subarray(i * size, (i + 1) * size), b * size)
    labels[b] = set.labels[i]
  }
  return { ...set, pixels, labels, count: indices.length }
}
