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
  /** a fresh Float32Array of `encoded.length` elements; throws a WireError on a malformed payload */
  decode(encoded: Encoded): Float32Array
}
