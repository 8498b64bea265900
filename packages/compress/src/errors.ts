/**
 * Every failure of decoding a tensor message has its own class; all extend WireError, and `name`
 * is the class name so callers can branch on `err.name` across realms.
 */
import { AtollError } from '@atoll/core'
export class WireError extends AtollError {}

/** The message does not start with the tensor-message magic. */
export class BadMagicError extends WireError {}

/** The message is shorter than its prefix and header declare. */
export class TruncatedMessageError extends WireError {}

/** The message is longer than its prefix and header declare. */
export class TrailingBytesError extends WireError {}

/** The declared header length is over the limit. */
export class HeaderTooLargeError extends WireError {}

/** The header is not a msgpack map. */
export class HeaderDecodeError extends WireError {}

/** A header field is missing, unknown or of the wrong type. */
export class HeaderFieldError extends WireError {}

/** The header version is not one this build reads. */
export class UnsupportedVersionError extends WireError {}

/** The dtype is not one of DTYPES. */
export class UnknownDTypeError extends WireError {}

/** The codec is not one of WIRE_CODECS. */
export class UnknownCodecError extends WireError {}

/** A dimension is not a non-negative safe integer. */
export class BadShapeError extends WireError {}

/** The declared bytes do not match what shape, dtype and codec imply. */
export class SizeMismatchError extends WireError {}

/** A size is over the configured limit. */
export class LimitExceededError extends WireError {}

/** CodecMeta does not fit the codec. */
export class CodecMetaError extends WireError {}

/** The padding between header and payload is not zero. */
export class BadPaddingError extends WireError {}

/** Sparse indices are malformed, out of range or not increasing. */
export class SparseIndexError extends WireError {}

/** A compressed payload does not inflate. */
export class CorruptPayloadError extends WireError {}

/** A raw bool payload holds a byte other than 0 or 1. */
export class BadBoolError extends WireError {}

/** A codec or policy was called with options it cannot honour (a caller's bug, not a wire fault). */
export class InvalidOptionError extends AtollError {}

/** Names of every wire error class, for tests and callers that branch on `err.name`. */
export const WIRE_ERROR_NAMES: readonly string[] = [
  'BadMagicError',
  'TruncatedMessageError',
  'TrailingBytesError',
  'HeaderTooLargeError',
  'HeaderDecodeError',
  'HeaderFieldError',
  'UnsupportedVersionError',
  'UnknownDTypeError',
  'UnknownCodecError',
  'BadShapeError',
  'SizeMismatchError',
  'LimitExceededError',
  'CodecMetaError',
  'BadPaddingError',
  'SparseIndexError',
  'CorruptPayloadError',
  'BadBoolError',
]
