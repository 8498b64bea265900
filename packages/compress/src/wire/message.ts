import { Packr, Unpackr } from 'msgpackr'
import {
  DEFAULT_LIMITS,
  PAYLOAD_ALIGNMENT,
  WIRE_MAGIC,
  WIRE_PREFIX_BYTES,
  WIRE_VERSION,
  type WireLimits,
} from '../constants.ts'
import {
  BadMagicError,
  BadPaddingError,
  HeaderDecodeError,
  HeaderTooLargeError,
  InvalidOptionError,
  TrailingBytesError,
  TruncatedMessageError,
} from '../errors.ts'
import { type TensorHeader, validateHeader } from './header.ts'

// Records and structured extensions off: the header is plain msgpack any implementation can read.
const packr = new Packr({ useRecords: false, variableMapSize: true })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true })

/** A header as the sender fills it: the version and payload length are filled in by encodeMessage. */
export type HeaderFields = Omit<TensorHeader, 'v' | 'bytes'>

/** Where a message's parts lie, known once its prefix and header have arrived. */
export interface HeaderInfo {
  header: TensorHeader
  /** offset of the payload from the start of the message (a multiple of PAYLOAD_ALIGNMENT) */
  payloadOffset: number
  /** length of the whole message: payloadOffset + header.bytes */
  messageBytes: number
}

export interface DecodedMessage {
  header: TensorHeader
  /** the payload, a view into the message bytes (not a copy) */
  payload: Uint8Array
}

/** Limits with the defaults filled in. */
export function wireLimits(limits: Partial<WireLimits> = {}): WireLimits {
  return { ...DEFAULT_LIMITS, ...limits }
}

/**
 * Encodes a tensor message as parts: [prefix + header + padding, payload]. The payload is not
 * copied; send the parts in order (or join them with joinParts). The header is validated exactly
 * as a receiver would, so an encoder cannot emit a message the other side must reject.
 */
export function encodeMessage(
  fields: HeaderFields,
  payload: Uint8Array,
  limits?: Partial<WireLimits>,
): Uint8Array[] {
  const header = validateHeader({ ...fields, v: WIRE_VERSION, bytes: payload.byteLength }, wireLimits(limits))
  const packed: Uint8Array = packr.pack(header)
  const payloadOffset = alignUp(WIRE_PREFIX_BYTES + packed.byteLength)
  const head = new Uint8Array(payloadOffset)
  head.set(WIRE_MAGIC, 0)
  new DataView(head.buffer).setUint32(4, packed.byteLength, true)
  head.set(packed, WIRE_PREFIX_BYTES)
  return payload.byteLength === 0 ? [head] : [head, payload]
}

/**
 * Reads the 8-byte prefix: checks the magic and the header length limit, and says how many bytes
 * of the message must have arrived before readHeader can run (the payload offset).
 */
export function readPrefix(
  bytes: Uint8Array,
  limits?: Partial<WireLimits>,
): { headerBytes: number; payloadOffset: number } {
  if (bytes.byteLength < WIRE_PREFIX_BYTES) {
    throw new TruncatedMessageError(
      `message prefix needs ${WIRE_PREFIX_BYTES} bytes, got ${bytes.byteLength}`,
    )
  }
  for (let i = 0; i < WIRE_MAGIC.length; i++) {
    if (bytes[i] !== WIRE_MAGIC[i]) throw new BadMagicError('message does not start with the magic "ATLT"')
  }
  const headerBytes = new DataView(bytes.buffer, bytes.byteOffset, WIRE_PREFIX_BYTES).getUint32(4, true)
  const max = wireLimits(limits).maxHeaderBytes
  if (headerBytes > max)
    throw new HeaderTooLargeError(`header of ${headerBytes} bytes is over the limit of ${max}`)
  return { headerBytes, payloadOffset: alignUp(WIRE_PREFIX_BYTES + headerBytes) }
}

/**
 * Validates the prefix and header of a message whose first bytes have arrived (at least the payload
 * offset; the payload need not). A network receiver calls this before it allocates for the payload.
 */
export function readHeader(bytes: Uint8Array, limits?: Partial<WireLimits>): HeaderInfo {
  const full = wireLimits(limits)
  const { headerBytes, payloadOffset } = readPrefix(bytes, full)
  if (bytes.byteLength < payloadOffset) {
    throw new TruncatedMessageError(`header needs ${payloadOffset} bytes, got ${bytes.byteLength}`)
  }
  const headerEnd = WIRE_PREFIX_BYTES + headerBytes
  for (let i = headerEnd; i < payloadOffset; i++) {
    if (bytes[i] !== 0) throw new BadPaddingError(`padding byte at ${i} is ${bytes[i]}, expected 0`)
  }
  let raw: unknown
  try {
    raw = unpackr.unpack(bytes.subarray(WIRE_PREFIX_BYTES, headerEnd))
  } catch (err) {
    throw new HeaderDecodeError(`header is not valid msgpack: ${(err as Error).message}`)
  }
  const header = validateHeader(raw, full)
  return { header, payloadOffset, messageBytes: payloadOffset + header.bytes }
}

/** Decodes one whole message (exactly its bytes); the payload is a view, not a copy. */
export function decodeMessage(bytes: Uint8Array, limits?: Partial<WireLimits>): DecodedMessage {
  const { header, payloadOffset, messageBytes } = readHeader(bytes, limits)
  if (bytes.byteLength < messageBytes) {
    throw new TruncatedMessageError(`message needs ${messageBytes} bytes, got ${bytes.byteLength}`)
  }
  if (bytes.byteLength > messageBytes) {
    throw new TrailingBytesError(
      `message is ${messageBytes} bytes, got ${bytes.byteLength - messageBytes} more`,
    )
  }
  return { header, payload: bytes.subarray(payloadOffset, messageBytes) }
}

/**
 * The parts of a message in one buffer (what a receiver holds once every frame has arrived): in
 * `out` when given (a receive buffer reused across messages; the result is a view of it), else in
 * fresh memory.
 */
export function joinParts(parts: readonly Uint8Array[], out?: Uint8Array): Uint8Array {
  let length = 0
  for (const p of parts) length += p.byteLength
  if (out !== undefined && out.byteLength < length) {
    throw new InvalidOptionError(`joinParts needs ${length} bytes, out has ${out.byteLength}`)
  }
  const joined = out === undefined ? new Uint8Array(length) : out.subarray(0, length)
  let offset = 0
  for (const p of parts) {
    joined.set(p, offset)
    offset += p.byteLength
  }
  return joined
}

function alignUp(n: number): number {
  return Math.ceil(n / PAYLOAD_ALIGNMENT) * PAYLOAD_ALIGNMENT
}
