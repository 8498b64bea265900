import { type Tensor, tensorBytes } from '@atoll/core'
import type { WireLimits } from '../constants.ts'
import type { Encoded } from '../codecs/encoded.ts'
import { decodeEncoded } from '../codecs/decode.ts'
import { SizeMismatchError } from '../errors.ts'
import { elementCount, type MessageRoute, type TensorHeader } from './header.ts'
import { encodeMessage } from './message.ts'
import { viewRaw } from './raw.ts'

/** The message parts of a float32 tensor encoded by a codec (payload not copied). */
export function encodeTensor(
  route: MessageRoute,
  shape: readonly number[],
  encoded: Encoded,
  limits?: Partial<WireLimits>,
): Uint8Array[] {
  if (elementCount(shape) !== encoded.length) {
    throw new SizeMismatchError(
      `shape [${shape}] has ${elementCount(shape)} elements, encoded has ${encoded.length}`,
    )
  }
  const { codec, codecMeta, payload } = encoded
  return encodeMessage({ ...route, dtype: 'float32', shape: [...shape], codec, codecMeta }, payload, limits)
}

/** The message parts of a dense tensor of any dtype, uncompressed; its storage is the payload (no copy). */
export function encodeRawTensor(
  route: MessageRoute,
  tensor: Tensor,
  limits?: Partial<WireLimits>,
): Uint8Array[] {
  const fields = {
    ...route,
    dtype: tensor.dtype,
    shape: [...tensor.shape],
    codec: 'raw' as const,
    codecMeta: {},
  }
  return encodeMessage(fields, tensorBytes(tensor), limits)
}

/** The payload of a validated header as a codec input. */
export function encodedOf(header: TensorHeader, payload: Uint8Array): Encoded {
  return { codec: header.codec, codecMeta: header.codecMeta, length: elementCount(header.shape), payload }
}

/**
 * The tensor of a decoded message. `raw` payloads come back as views of the message bytes where
 * aligned (the caller must not reuse that buffer while the tensor lives); codecs decode to a fresh
 * Float32Array, or into `out` when given (exactly the element count; a buffer reused across
 * steps). Throws a WireError on any malformed payload.
 */
export function decodeTensor(header: TensorHeader, payload: Uint8Array, out?: Float32Array): Tensor {
  const n = elementCount(header.shape)
  const shape = [...header.shape]
  if (header.codec === 'raw') return { dtype: header.dtype, shape, data: viewRaw(header.dtype, n, payload) }
  return { dtype: 'float32', shape, data: decodeEncoded(encodedOf(header, payload), out) }
}
