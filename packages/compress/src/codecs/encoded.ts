import { InvalidOptionError } from '../errors.ts'
import type { CodecMeta } from '../wire/codec-meta.ts'
import type { WireCodec } from '../wire/header.ts'

/** What a codec's encode returns: the payload and the meta a decoder needs, ready for the wire. */
export interface Encoded {
  codec: WireCodec
  codecMeta: CodecMeta
  /** elements of the float32 tensor it encodes */
  length: number
  payload: Uint8Array
}

/** A codec over float32 tensors. */
export interface Codec<Options> {
  readonly name: string
  encode(x: Float32Array, options: Options): Encoded
  /**
   * The tensor, in `out` when given (exactly `encoded.length` elements: a buffer reused across
   * steps), else in a fresh Float32Array. Throws a WireError on a malformed payload, before
   * writing anything.
   */
  decode(encoded: Encoded, out?: Float32Array): Float32Array
}

/** `bytes` of payload memory: a view of the caller's `out` when given (checked), else fresh. */
export function payloadBuffer(
  out: Uint8Array | undefined,
  bytes: number,
  alignment: number,
  codec: string,
): Uint8Array {
  if (out === undefined) return new Uint8Array(bytes)
  if (out.byteLength < bytes || out.byteOffset % alignment !== 0) {
    throw new InvalidOptionError(
      `${codec} out needs ${bytes} bytes at a ${alignment}-aligned offset, got ${out.byteLength} at ${out.byteOffset}`,
    )
  }
  return out.subarray(0, bytes)
}

/** `out` checked to hold exactly n elements, or a fresh array. */
export function outputArray(out: Float32Array | undefined, length: number, codec: string): Float32Array {
  if (out === undefined) return new Float32Array(length)
  if (out.length !== length)
    throw new InvalidOptionError(`${codec} decodes ${length} elements, out has ${out.length}`)
  return out
}
