import { MAX_VARINT32_BYTES, readVarint, VarintError, writeVarint } from '@atoll/core'
import { SparseIndexError } from '../errors.ts'

/**
 * Sparse indices as LEB128 varints of their gaps. Gaps are taken from a virtual index −1, so every
 * gap of a strictly increasing list is ≥ 1 and a 0 gap always means "not increasing".
 * Returns the bytes written (at most 5 per index).
 */
export function writeIndexVarints(
  indices: Uint32Array,
  count: number,
  out: Uint8Array,
  offset: number,
): number {
  let pos = offset
  let prev = -1
  for (let j = 0; j < count; j++) {
    const index = indices[j]
    pos = writeVarint(out, pos, index - prev)
    prev = index
  }
  return pos - offset
}

/**
 * Walks k index varints in `bytes` and checks them without writing anything: each varint at most
 * 5 bytes, every gap ≥ 1, every index < n, exactly k indices using exactly all the bytes. When
 * `into` is given (after a successful check), the indices are written to it.
 */
export function readIndexVarints(bytes: Uint8Array, count: number, length: number, into?: Uint32Array): void {
  const at = { pos: 0 }
  let prev = -1
  let j = 0
  try {
    for (; j < count; j++) {
      const gap = readVarint(bytes, at, bytes.length, MAX_VARINT32_BYTES)
      if (gap === 0) throw new SparseIndexError(`index ${j} repeats index ${prev}: indices must increase`)
      const index = prev + gap
      if (index >= length)
        throw new SparseIndexError(`index ${j} is ${index}, out of range for ${length} elements`)
      if (into !== undefined) into[j] = index
      prev = index
    }
  } catch (err) {
    throw err instanceof VarintError ? new SparseIndexError(`index ${j}: ${err.message}`) : err
  }
  if (at.pos !== bytes.length) {
    throw new SparseIndexError(
      `${count} indices use ${at.pos} bytes, ${bytes.length - at.pos} bytes are left over`,
    )
  }
}
