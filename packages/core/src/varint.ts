/**
 * LEB128 varints, the one copy in the repository: unsigned ones (protobuf's varints and lengths,
 * WebAssembly's u32 immediates and section sizes, compress's sparse index gaps) and signed ones
 * (WebAssembly's i32.const immediates, which only Atoll writes). Writers take the output array and
 * a position and return the position after what they wrote; readers move a cursor past what they
 * read. So a loop over millions of sparse indices allocates nothing per element.
 */
import { AtollError } from './errors.ts'

/** The longest unsigned varint of a 32-bit value: 7 bits a byte. */
export const MAX_VARINT32_BYTES = 5
/** The longest unsigned varint of a 64-bit value. */
export const MAX_VARINT64_BYTES = 10
/** A varint of more bytes than this may hold more than 53 bits, which a number does not keep exactly. */
const MAX_EXACT_BYTES = 7

/** A varint runs past the end of its bytes, or is longer than its type allows. */
export class VarintError extends AtollError {}

/** A read position in a byte array; readers move `pos` past what they read. */
interface ByteCursor {
  pos: number
}

/**
 * Writes `value`, an integer in [0, 2^53), as an unsigned varint at `out[pos]` and returns the
 * position after it. Not checked (hot loops call it per element): `out` must have room for the
 * varint (MAX_VARINT32_BYTES for a 32-bit value).
 */
export function writeVarint(out: Uint8Array, pos: number, value: number): number {
  // bit operators work on 32 bits: larger values shift by dividing, in a function of their own so
  // that this loop stays on small integers (one loop for both cost up to a third more on compress's
  // sparse index gaps)
  if (value > 0x7fffffff) return writeLargeVarint(out, pos, value)
  let rest = value
  while (rest >= 0x80) {
    out[pos++] = (rest & 0x7f) | 0x80
    rest >>>= 7
  }
  out[pos++] = rest
  return pos
}

function writeLargeVarint(out: Uint8Array, pos: number, value: number): number {
  let rest = value
  while (rest > 0x7fffffff) {
    out[pos++] = (rest % 0x80) | 0x80
    rest = Math.floor(rest / 0x80)
  }
  return writeVarint(out, pos, rest)
}

/** Writes a 64-bit integer as an unsigned varint; a negative one as its two's complement, as protobuf does. */
export function writeVarint64(out: Uint8Array, pos: number, value: bigint): number {
  let rest = BigInt.asUintN(64, value)
  while (rest >= 0x80n) {
    out[pos++] = Number(rest & 0x7fn) | 0x80
    rest >>= 7n
  }
  out[pos++] = Number(rest)
  return pos
}

/** Writes a safe integer as a signed varint (two's complement, sign-extended from the last byte's bit 6). */
export function writeSignedVarint(out: Uint8Array, pos: number, value: number): number {
  let rest = value
  for (;;) {
    const low = rest - Math.floor(rest / 0x80) * 0x80 // rest mod 128, in [0, 128) also below zero
    rest = Math.floor(rest / 0x80)
    const last = (rest === 0 && low < 0x40) || (rest === -1 && low >= 0x40)
    out[pos++] = last ? low : low | 0x80
    if (last) return pos
  }
}

/**
 * Reads the unsigned varint at `bytes[at.pos]`, of at most `maxBytes` bytes (at most 7, so that the
 * value is exact) before `end`, and moves `at.pos` past it. Throws VarintError, and leaves `at.pos`
 * where it was, when the bytes end inside it or it is longer than `maxBytes`.
 */
export function readVarint(
  bytes: Uint8Array,
  at: ByteCursor,
  end: number = bytes.length,
  maxBytes: number = MAX_VARINT32_BYTES,
): number {
  const most = Math.min(maxBytes, MAX_EXACT_BYTES)
  const limit = Math.min(end, at.pos + most)
  let value = 0
  let scale = 1
  for (let pos = at.pos; pos < limit; ) {
    const byte = bytes[pos++]
    value += (byte & 0x7f) * scale
    if (byte < 0x80) {
      at.pos = pos
      return value
    }
    scale *= 0x80
  }
  throw varintError(at.pos, end < at.pos + most, most)
}

/** Reads an unsigned varint of up to 64 bits (10 bytes) before `end`, exactly, as readVarint does. */
export function readVarint64(bytes: Uint8Array, at: ByteCursor, end: number = bytes.length): bigint {
  const limit = Math.min(end, at.pos + MAX_VARINT64_BYTES)
  let value = 0n
  for (let pos = at.pos, shift = 0n; pos < limit; shift += 7n) {
    const byte = bytes[pos++]
    value |= BigInt(byte & 0x7f) << shift
    if (byte < 0x80) {
      at.pos = pos
      return BigInt.asUintN(64, value)
    }
  }
  throw varintError(at.pos, end < at.pos + MAX_VARINT64_BYTES, MAX_VARINT64_BYTES)
}

function varintError(start: number, endReached: boolean, maxBytes: number): VarintError {
  return new VarintError(
    endReached
      ? `the bytes end inside the varint that starts at byte ${start}`
      : `the varint at byte ${start} is longer than ${maxBytes} bytes`,
  )
}

const INT64_MAX = 2n ** 63n - 1n
const INT64_MIN = -(2n ** 63n)

/**
 * An integer held as a double, as an int64: truncated and clamped to the int64 range. INT64_MAX —
 * what exporters write for "to the end" — reads as the double 2^63, which as a 64-bit value would
 * wrap to INT64_MIN.
 */
export function int64Of(value: number): bigint {
  const exact = BigInt(Math.trunc(value))
  return exact > INT64_MAX ? INT64_MAX : exact < INT64_MIN ? INT64_MIN : exact
}
