/**
 * @atoll/compress: tensor codecs (fp16, int8, exact and sampled top-k with sparse index coding),
 * error feedback, the AdaTopK keep-ratio policy, and the tensor wire format (a msgpack header and
 * the raw payload; see README.md for the byte layout).
 *
 * @example
 * ```ts
 * import { decodeMessage, decodeTensor, encodeTensor, ErrorFeedback, joinParts, keepCount, topk } from '@atoll/compress'
 * const grad = Float32Array.of(0.1, -3, 0.02, 2.5, 0, -0.7)
 * const feedback = new ErrorFeedback()
 * const k = keepCount(grad.length, 1 / 3) // 2
 * const encoded = feedback.step('h.3.attn.w', grad, (x) => topk.encode(x, { k, values: 'float16' }))
 * const route = { job: 'j1', step: 7, mb: 0, edge: 'h.3.attn.w' }
 * const parts = encodeTensor(route, [2, 3], encoded) // [prefix + header, payload]: send in order
 * const { header, payload } = decodeMessage(joinParts(parts)) // validated before anything is allocated
 * decodeTensor(header, payload).data // Float32Array [0, -3, 0, 2.5, 0, 0]
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
export * from './errors.ts'
export { decodeEncoded } from './codecs/decode.ts'
export type { Codec, Encoded } from './codecs/encoded.ts'
export { type Fp16Options, float32ToHalfBits, fp16, halfBitsToFloat32 } from './codecs/fp16.ts'
export { INT8_NON_FINITE, type Int8Options, int8 } from './codecs/int8.ts'
export { raw } from './codecs/raw.ts'
export {
  decodeSparse,
  decodeSparseEntries,
  encodeSparse,
  type SparseEntries,
  type SparseOptions,
} from './codecs/sparse.ts'
export { selectTopK, type TopKOptions, topk } from './codecs/topk.ts'
export { selectSampled, type TopKSampledOptions, topkSampled } from './codecs/topk-sampled.ts'
export { type Compressor, ErrorFeedback } from './feedback.ts'
export { type KeepRatioInput, keepCount, keepRatio, MIN_KEEP_RATIO } from './ratio.ts'
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
export { viewRaw } from './wire/raw.ts'
export { decodeTensor, encodedOf, encodeRawTensor, encodeTensor } from './wire/tensor.ts'
