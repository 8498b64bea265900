import type { DType } from '@atoll/core'
import { INT8_MAX_BLOCK, MAX_VARINT_BYTES } from '../constants.ts'
import { CodecMetaError } from '../errors.ts'
import { describe, isPlainObject } from './check.ts'
import type { WireCodec } from './header.ts'

/** Meta of the `int8` codec: values per scale block. */
export interface Int8Meta {
  block: number
}

/** How sparse values are stored. */
export type SparseValues = 'float32' | 'float16'

/** How sparse indices are stored: delta + LEB128 varint, optionally deflated (fflate). */
export type SparseIndexCoding = 'varint' | 'deflate'

/** Meta of the `sparse` codec (what top-k and top-k-sampled produce). */
export interface SparseMeta {
  /** kept values */
  k: number
  values: SparseValues
  index: SparseIndexCoding
  /** index bytes on the wire (after deflate when index is `deflate`) */
  indexBytes: number
  /** index bytes as varints (before deflate; equals indexBytes for `varint`) */
  varintBytes: number
}

export type CodecMeta = Record<string, never> | Int8Meta | SparseMeta

const VALUE_BYTES: Record<SparseValues, number> = { float32: 4, float16: 2 }

/** Payload bytes a codec needs for n elements: the single formula both encoder and decoder use. */
export function payloadBytes(codec: WireCodec, bytesPerElement: number, n: number, meta: CodecMeta): number {
  switch (codec) {
    case 'raw':
      return n * bytesPerElement
    case 'fp16':
      return 2 * n
    case 'int8': {
      const { block } = meta as Int8Meta
      return 4 * Math.ceil(n / block) + n
    }
    case 'sparse': {
      const { k, values, indexBytes } = meta as SparseMeta
      return k * VALUE_BYTES[values] + indexBytes
    }
  }
}

export function sparseValueBytes(values: SparseValues): number {
  return VALUE_BYTES[values]
}

/** Checks an untrusted codecMeta against its codec and the tensor's dtype and element count. */
export function validateCodecMeta(codec: WireCodec, dtype: DType, n: number, raw: unknown): CodecMeta {
  if (!isPlainObject(raw)) throw new CodecMetaError('codecMeta must be a map')
  if (codec !== 'raw' && dtype !== 'float32') {
    throw new CodecMetaError(`codec ${codec} decodes to float32, header says dtype ${dtype}`)
  }
  switch (codec) {
    case 'raw':
    case 'fp16':
      onlyKeys(raw, [], codec)
      return {}
    case 'int8': {
      onlyKeys(raw, ['block'], codec)
      return { block: integer(raw.block, 'block', 1, INT8_MAX_BLOCK) }
    }
    case 'sparse':
      return validateSparseMeta(raw, n)
  }
}

function validateSparseMeta(raw: Record<string, unknown>, n: number): SparseMeta {
  onlyKeys(raw, ['k', 'values', 'index', 'indexBytes', 'varintBytes'], 'sparse')
  const k = integer(raw.k, 'k', 0, n)
  if (raw.values !== 'float32' && raw.values !== 'float16') {
    throw new CodecMetaError(`sparse values must be float32 or float16, got ${describe(raw.values)}`)
  }
  if (raw.index !== 'varint' && raw.index !== 'deflate') {
    throw new CodecMetaError(`sparse index must be varint or deflate, got ${describe(raw.index)}`)
  }
  // Each index is one varint of 1..5 bytes, so the varint stream length is bounded by k.
  const varintBytes = integer(raw.varintBytes, 'varintBytes', k, k * MAX_VARINT_BYTES)
  const indexBytes = integer(raw.indexBytes, 'indexBytes', 0, Number.MAX_SAFE_INTEGER)
  if (raw.index === 'varint' && indexBytes !== varintBytes) {
    throw new CodecMetaError(`sparse varint indexBytes ${indexBytes} differs from varintBytes ${varintBytes}`)
  }
  return { k, values: raw.values, index: raw.index, indexBytes, varintBytes }
}

function onlyKeys(raw: Record<string, unknown>, allowed: string[], codec: string): void {
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) throw new CodecMetaError(`unknown ${codec} codecMeta field '${key}'`)
  }
}

function integer(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new CodecMetaError(
      `codecMeta ${field} must be an integer in [${min}, ${max}], got ${describe(value)}`,
    )
  }
  return value
}
