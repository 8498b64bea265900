/**
 * Striping: a large tensor travels as several parts, one stream each, so that transfers overlap and a
 * slow window on one stream does not stall the whole message. Each part stream opens with a 16-byte
 * preamble naming the transfer and the part; every part then repeats the (small) message head, so the
 * receiver can validate and allocate from whichever part arrives first. Part ranges are computed, not
 * sent, so a sender cannot make parts overlap or leave holes.
 */
import { DEFAULT_MAX_STRIPES, DEFAULT_STRIPE_THRESHOLD_BYTES, MAX_STRIPES } from './constants.ts'
import { MalformedFrameError } from './errors.ts'

export const PREAMBLE_BYTES = 16
const PREAMBLE_VERSION = 1
const ID_BYTES = 12

export interface Preamble {
  /** Random per transfer, unique per sender; rendered as hex. */
  transferId: string
  parts: number
  part: number
}

export function encodePreamble(id: Uint8Array, parts: number, part: number): Uint8Array {
  const out = new Uint8Array(PREAMBLE_BYTES)
  out[0] = PREAMBLE_VERSION
  out[1] = parts
  out[2] = part
  out.set(id.subarray(0, ID_BYTES), 4)
  return out
}

export function newTransferId(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(ID_BYTES))
}

export function parsePreamble(bytes: Uint8Array): Preamble {
  if (bytes.byteLength !== PREAMBLE_BYTES) {
    throw new MalformedFrameError(`stripe preamble must be ${PREAMBLE_BYTES} bytes, got ${bytes.byteLength}`)
  }
  const [version, parts, part, reserved] = bytes
  if (version !== PREAMBLE_VERSION)
    throw new MalformedFrameError(`stripe preamble version ${version}, expected 1`)
  if (reserved !== 0)
    throw new MalformedFrameError(`stripe preamble reserved byte is ${reserved}, expected 0`)
  if (parts < 1 || parts > MAX_STRIPES || part >= parts) {
    throw new MalformedFrameError(`stripe part ${part} of ${parts} (1 to ${MAX_STRIPES} parts allowed)`)
  }
  const transferId = Array.from(bytes.subarray(4), (b) => b.toString(16).padStart(2, '0')).join('')
  return { transferId, parts, part }
}

/** Names a transfer among every sender's: transfer ids are unique per sender only. */
export function transferKey(from: string, transferId: string): string {
  return `${from}/${transferId}`
}

/** Byte range [start, end) of the payload that `part` of `parts` carries. */
export function stripeRange(bytes: number, parts: number, part: number): [number, number] {
  return [Math.floor((bytes * part) / parts), Math.floor((bytes * (part + 1)) / parts)]
}

/** How many streams a payload of `bytes` is sent over, unless the caller says. */
export function stripeCount(
  bytes: number,
  maxStripes = DEFAULT_MAX_STRIPES,
  thresholdBytes = DEFAULT_STRIPE_THRESHOLD_BYTES,
): number {
  return Math.max(1, Math.min(maxStripes, MAX_STRIPES, Math.floor(bytes / thresholdBytes)))
}
