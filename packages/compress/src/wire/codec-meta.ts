import { type DType, type FieldProblem, MAX_VARINT32_BYTES, parseWith } from '@atoll/core'
import { INT8_MAX_BLOCK } from '../constants.ts'
import * as z from 'zod/mini'
import { CodecMetaError } from '../errors.ts'
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
export function payloadBytes(
  codec: WireCodec,
  bytesPerElement: number,
  elements: number,
  meta: CodecMeta,
): number {
  switch (codec) {
    case 'raw':
      return elements * bytesPerElement
    case 'fp16':
      return 2 * elements
    case 'int8': {
      const { block } = meta as Int8Meta
      return 4 * Math.ceil(elements / block) + elements
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

const count = z.int().check(z.gte(0))

/** The fields each codec's meta has; what they must be for this tensor is checked after the parse. */
const META_FIELDS = {
  raw: z.strictObject({}),
  fp16: z.strictObject({}),
  int8: z.strictObject({ block: z.int().check(z.gte(1), z.lte(INT8_MAX_BLOCK)) }),
  sparse: z.strictObject({
    k: count,
    values: z.enum(['float32', 'float16']),
    index: z.enum(['varint', 'deflate']),
    indexBytes: count,
    varintBytes: count,
  }),
} as const

/** Checks an untrusted codecMeta against its codec and the tensor's dtype and element count. */
export function validateCodecMeta(codec: WireCodec, dtype: DType, elements: number, raw: unknown): CodecMeta {
  if (codec !== 'raw' && dtype !== 'float32') {
    throw new CodecMetaError(`codec ${codec} decodes to float32, header says dtype ${dtype}`)
  }
  const fail = (problem: FieldProblem) => new CodecMetaError(`${codec} ${problem.message}`)
  const options = { root: 'codecMeta' }
  if (codec !== 'sparse') return parseWith(META_FIELDS[codec], raw, fail, options)
  const meta = parseWith(META_FIELDS.sparse, raw, fail, options)
  checkSparseMeta(meta, elements)
  return meta
}

/** Checks that sparse meta's counts fit a tensor of n elements. */
function checkSparseMeta(meta: SparseMeta, n: number): void {
  const { k, index, indexBytes, varintBytes } = meta
  if (k > n) throw new CodecMetaError(`sparse codecMeta.k ${k} is over the ${n} elements of the tensor`)
  // Each index is one varint of 1..5 bytes, so the varint stream length is bounded by k.
  if (varintBytes < k || varintBytes > k * MAX_VARINT32_BYTES) {
    throw new CodecMetaError(
      `sparse codecMeta.varintBytes ${varintBytes} is outside [${k}, ${k * MAX_VARINT32_BYTES}] for k ${k}`,
    )
  }
  if (index === 'varint' && indexBytes !== varintBytes) {
    throw new CodecMetaError(`sparse varint indexBytes ${indexBytes} differs from varintBytes ${varintBytes}`)
  }
}
