/**
 * @atoll/compress: tensor codecs (fp16, int8, exact and sampled top-k with sparse index coding),
 * error feedback, the AdaTopK keep-ratio policy, and the tensor wire format (a msgpack header and
 * the raw payload; see README.md for the byte layout).
 *
 * @example
 * ```ts
 * import { decodeMessage, decodeTensor, encodeMessage, joinParts } from '@atoll/compress'
 * const data = Float32Array.of(1, 2, 3, 4)
 * const parts = encodeMessage(
 *   { job: 'j1', step: 7, mb: 0, edge: 'h.3->h.4', dtype: 'float32', shape: [2, 2], codec: 'raw', codecMeta: {} },
 *   new Uint8Array(data.buffer),
 * )
 * const { header, payload } = decodeMessage(joinParts(parts))
 * const t = decodeTensor(header, payload) // { dtype: 'float32', shape: [2, 2], data: Float32Array [1, 2, 3, 4] }
 * ```
 */
export {
  DEFAULT_LIMITS,
  INT8_BLOCK,
  PAYLOAD_ALIGNMENT,
  WIRE_MAGIC,
  WIRE_PREFIX_BYTES,
  WIRE_VERSION,
  type WireLimits,
} from './constants.ts'
export {
  BYTES_PER_ELEMENT,
  bytesOf,
  type DType,
  DTYPES,
  isDType,
  type StorageOf,
  type TensorData,
} from './dtype.ts'
export * from './errors.ts'
export type { CodecMeta, Int8Meta, SparseIndexCoding, SparseMeta, SparseValues } from './wire/codec-meta.ts'
export {
  elementCount,
  type MessageRoute,
  type TensorHeader,
  validateHeader,
  WIRE_CODECS,
  type WireCodec,
} from './wire/header.ts'
export {
  type DecodedMessage,
  decodeMessage,
  encodeMessage,
  type HeaderFields,
  type HeaderInfo,
  joinParts,
  readHeader,
  readPrefix,
  wireLimits,
} from './wire/message.ts'
export { viewRaw, type WireTensor } from './wire/raw.ts'
