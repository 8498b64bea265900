import { SizeMismatchError } from '../errors.ts'
import { type Codec, type Encoded, outputArray } from './encoded.ts'

/** The identity codec for float32: the payload is a view of the tensor's own bytes (no copy). */
export const raw = {
  name: 'raw',
  encode(x: Float32Array): Encoded {
    const payload = new Uint8Array(x.buffer, x.byteOffset, x.byteLength)
    return { codec: 'raw', codecMeta: {}, length: x.length, payload }
  },
  decode(encoded: Encoded, out?: Float32Array): Float32Array {
    const { length, payload } = encoded
    if (payload.byteLength !== 4 * length) {
      throw new SizeMismatchError(
        `raw float32 of ${length} elements needs ${4 * length} bytes, got ${payload.byteLength}`,
      )
    }
    const result = outputArray(out, length, 'raw')
    new Uint8Array(result.buffer, result.byteOffset, result.byteLength).set(payload)
    return result
  },
} satisfies Codec<void>
