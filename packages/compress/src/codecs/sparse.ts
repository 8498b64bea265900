import { MAX_VARINT32_BYTES } from '@atoll/core'
import { deflateSync, inflateSync } from 'fflate'
import { CorruptPayloadError, InvalidOptionError, SizeMismatchError } from '../errors.ts'
import {
  type SparseIndexCoding,
  type SparseMeta,
  type SparseValues,
  sparseValueBytes,
  validateCodecMeta,
} from '../wire/codec-meta.ts'
import { type Encoded, outputArray } from './encoded.ts'
import { float32ToHalfBits, halfBitsToFloat32, halfView } from './fp16.ts'
import { readIndexVarints, writeIndexVarints } from './varint.ts'

export interface SparseOptions {
  /** how kept values are stored (default float32) */
  values?: SparseValues
  /** how indices are stored (default varint; deflate pays off when kept indices cluster) */
  index?: SparseIndexCoding
}

/** A sparse tensor's kept entries: indices strictly increasing, values beside them. */
export interface SparseEntries {
  indices: Uint32Array
  values: Float32Array
}

/**
 * The sparse payload of x at `count` strictly increasing indices: the values (float32 or half
 * bits) first, so they sit aligned at the payload start, then the index varints (maybe deflated).
 */
export function encodeSparse(
  input: Float32Array,
  indices: Uint32Array,
  count: number,
  options: SparseOptions = {},
): Encoded {
  const values = options.values ?? 'float32'
  const index = options.index ?? 'varint'
  checkSparseInput(input.length, indices, count, values, index)
  const valueBytes = count * sparseValueBytes(values)
  const buffer = new Uint8Array(valueBytes + count * MAX_VARINT32_BYTES)
  const kept = values === 'float32' ? new Float32Array(buffer.buffer, 0, count) : new Float32Array(count)
  for (let j = 0; j < count; j++) kept[j] = input[indices[j]]
  if (values === 'float16') float32ToHalfBits(kept, new Uint16Array(buffer.buffer, 0, count))
  const varintBytes = writeIndexVarints(indices, count, buffer, valueBytes)
  let payload = buffer.subarray(0, valueBytes + varintBytes)
  let indexBytes = varintBytes
  if (index === 'deflate') {
    const deflated = deflateSync(buffer.subarray(valueBytes, valueBytes + varintBytes))
    indexBytes = deflated.length
    payload = new Uint8Array(valueBytes + indexBytes)
    payload.set(buffer.subarray(0, valueBytes))
    payload.set(deflated, valueBytes)
  }
  const codecMeta: SparseMeta = { k: count, values, index, indexBytes, varintBytes }
  return { codec: 'sparse', codecMeta, length: input.length, payload }
}

/**
 * The kept entries of a sparse payload, checked completely (meta, sizes, every index) before the
 * entries are allocated.
 */
export function decodeSparseEntries(encoded: Encoded): SparseEntries {
  const { length: n, payload } = encoded
  const meta = validateCodecMeta('sparse', 'float32', n, encoded.codecMeta) as SparseMeta
  const valueBytes = meta.k * sparseValueBytes(meta.values)
  if (payload.byteLength !== valueBytes + meta.indexBytes) {
    throw new SizeMismatchError(
      `sparse payload needs ${valueBytes + meta.indexBytes} bytes, got ${payload.byteLength}`,
    )
  }
  const varints = indexVarints(payload.subarray(valueBytes), meta)
  readIndexVarints(varints, meta.k, n)
  const indices = new Uint32Array(meta.k)
  readIndexVarints(varints, meta.k, n, indices)
  const values = new Float32Array(meta.k)
  if (meta.values === 'float16') halfBitsToFloat32(halfView(payload, meta.k), values)
  else {
    const src = payload.byteOffset % 4 === 0 ? payload : payload.slice(0, valueBytes)
    values.set(new Float32Array(src.buffer, src.byteOffset, meta.k))
  }
  return { indices, values }
}

/** The dense float32 tensor of a sparse payload: zeros except at the kept indices. */
export function decodeSparse(encoded: Encoded, out?: Float32Array): Float32Array {
  const { indices, values } = decodeSparseEntries(encoded)
  const result = outputArray(out, encoded.length, 'sparse')
  if (out !== undefined) result.fill(0)
  for (let j = 0; j < indices.length; j++) result[indices[j]] = values[j]
  return result
}

/** An encoder must not emit what every decoder rejects: options and indices are checked (O(count)). */
function checkSparseInput(
  n: number,
  indices: Uint32Array,
  count: number,
  values: string,
  index: string,
): void {
  if (values !== 'float32' && values !== 'float16') {
    throw new InvalidOptionError(`sparse values must be float32 or float16, got ${values}`)
  }
  if (index !== 'varint' && index !== 'deflate') {
    throw new InvalidOptionError(`sparse index must be varint or deflate, got ${index}`)
  }
  if (!Number.isSafeInteger(count) || count < 0 || count > indices.length || count > n) {
    throw new InvalidOptionError(
      `sparse count ${count} does not fit ${indices.length} indices of ${n} elements`,
    )
  }
  let prev = -1
  for (let j = 0; j < count; j++) {
    const i = indices[j]
    if (i <= prev || i >= n)
      throw new InvalidOptionError(`sparse index ${j} is ${i}: indices must increase and be < ${n}`)
    prev = i
  }
}

function indexVarints(bytes: Uint8Array, meta: SparseMeta): Uint8Array {
  if (meta.index === 'varint') return bytes
  // One spare byte: output that fills it inflated to more than the header declared.
  const out = new Uint8Array(meta.varintBytes + 1)
  let inflated: Uint8Array
  try {
    inflated = inflateSync(bytes, { out })
  } catch (err) {
    throw new CorruptPayloadError(`sparse indices do not inflate: ${(err as Error).message}`)
  }
  if (inflated.length !== meta.varintBytes) {
    throw new CorruptPayloadError(
      `sparse indices inflate to ${inflated.length}+ bytes, header declares ${meta.varintBytes}`,
    )
  }
  return inflated
}
