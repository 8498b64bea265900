import { BYTES_PER_ELEMENT, type DType, STORAGE, type StorageOf } from '@atoll/core'
import { BadBoolError, SizeMismatchError } from '../errors.ts'

/**
 * The elements of a raw payload as the dtype's typed array: a view when the payload's offset is a
 * multiple of the element size (the wire format aligns payloads so that it is, when the message
 * itself starts aligned), otherwise one copy into fresh, aligned memory. Little-endian hosts only,
 * like every platform Node and browsers run on.
 */
export function viewRaw<D extends DType>(dtype: D, elements: number, payload: Uint8Array): StorageOf[D] {
  const size = BYTES_PER_ELEMENT[dtype]
  if (payload.byteLength !== elements * size) {
    throw new SizeMismatchError(
      `raw ${dtype} of ${elements} elements needs ${elements * size} bytes, got ${payload.byteLength}`,
    )
  }
  if (dtype === 'bool') checkBool(payload)
  const aligned = payload.byteOffset % size === 0 ? payload : payload.slice()
  return new STORAGE[dtype](aligned.buffer, aligned.byteOffset, elements) as StorageOf[D]
}

function checkBool(bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] > 1) throw new BadBoolError(`bool element ${i} is ${bytes[i]}, expected 0 or 1`)
  }
}
