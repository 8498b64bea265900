import type { Encoded } from './encoded.ts'
import { fp16 } from './fp16.ts'
import { int8 } from './int8.ts'
import { raw } from './raw.ts'
import { decodeSparse } from './sparse.ts'

/**
 * The float32 tensor of any codec's output, in `out` when given (exactly its length), else fresh
 * (for `raw`, a copy of the payload).
 * Throws a WireError on a malformed payload.
 */
export function decodeEncoded(encoded: Encoded, out?: Float32Array): Float32Array {
  switch (encoded.codec) {
    case 'fp16':
      return fp16.decode(encoded, out)
    case 'int8':
      return int8.decode(encoded, out)
    case 'sparse':
      return decodeSparse(encoded, out)
    case 'raw':
      return raw.decode(encoded, out)
  }
}
