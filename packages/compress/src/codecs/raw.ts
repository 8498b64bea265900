import { SizeMismatchError } from '../errors.ts'
import type { Codec, Encoded } from './encoded.ts'

/** The identity codec for float32: the payload is a view of the tensor's own bytes (no copy). */
export const raw = {
  name: 'raw',
  encode(x: Float32Array): Encoded {
    const payload = new Uint8Array(x.buffer, x.byteOffset, x.byteLength)
    return { codec: 'raw', codecMeta: {}, length: x.length, payload }
  },
  decode(encoded: Encoded): Float32Array {
    const { length, payload } = encoded
    if (payload.byteLength !== 4 * length) {
      throw new SizeMismatchError(
        `raw float32 of ${length} elements needs ${4 * length} bytes, got ${payload.byteLength}`,
      )
    }
    const out = new Float32Array(length)
    new Uint8Array(out.buffer).set(payload)
    return out
  },
} satisfies Codec<void>
