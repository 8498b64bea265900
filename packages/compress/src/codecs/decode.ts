import type { Encoded } from './encoded.ts'
import { fp16 } from './fp16.ts'
import { int8 } from './int8.ts'
import { raw } from './raw.ts'
import { decodeSparse } from './sparse.ts'

/**
 * The float32 tensor of any codec's output (a fresh array; for `raw`, a copy of the payload).
 * Throws a WireError on a malformed payload.
 */
export function decodeEncoded(encoded: Encoded): Float32Array {
  switch (encoded.codec) {
    case 'fp16':
      return fp16.decode(encoded)
    case 'int8':
      return int8.decode(encoded)
    case 'sparse':
      return decodeSparse(encoded)
    case 'raw':
      return raw.decode(encoded)
  }
}
