/**
 * What every dataset's batches share, whatever the samples are (images, token windows): picking a
 * sample by a checked index, and writing int64 ids (labels, tokens) without creating BigInts.
 */
import type { Tensor } from '@atoll/core'
import { DatasetError } from '../errors.ts'

/** `indices[position]`, checked to name one of `count` samples (a `what`: image, sequence). */
export function sampleAt(indices: ArrayLike<number>, position: number, count: number, what: string): number {
  const i = indices[position]
  if (!Number.isInteger(i) || i < 0 || i >= count) throw new DatasetError(`${what} ${i} not in [0, ${count})`)
  return i
}

/** The int64 storage as little-endian 32-bit words, so ids are written without creating BigInts. */
export function int32Words(tensor: Tensor<'int64'>): Int32Array {
  return new Int32Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.length * 2)
}

/** Writes a non-negative int32 `value` as element `index` of an int64 array viewed through `words`. */
export function writeInt64(words: Int32Array, index: number, value: number): void {
  words[2 * index] = value
  words[2 * index + 1] = value < 0 ? -1 : 0
}
