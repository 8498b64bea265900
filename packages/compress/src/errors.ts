/**
 * Every failure of decoding a tensor message has its own class; all extend WireError, and `name`
 * is the class name so callers can branch on `err.name` across realms.
 */
export class WireError extends Error {
  static override name = 'WireError'
  constructor(message: string) {
    super(message)
    this.name = 'WireError'
  }
}

/** The message does not start with the tensor-message magic. */
export class BadMagicError extends WireError {
  static override name = 'BadMagicError'
  constructor(message: string) {
    super(message)
    this.name = 'BadMagicError'
  }
}

/** The message is shorter than its prefix and header declare. */
export class TruncatedMessageError extends WireError {
  static override name = 'TruncatedMessageError'
  constructor(message: string) {
    super(message)
    this.name = 'TruncatedMessageError'
  }
}

/** The message is longer than its prefix and header declare. */
export class TrailingBytesError extends WireError {
  static override name = 'TrailingBytesError'
  constructor(message: string) {
    super(message)
    this.name = 'TrailingBytesError'
  }
}

/** The declared header length is over the limit. */
export class HeaderTooLargeError extends WireError {
  static override name = 'HeaderTooLargeError'
  constructor(message: string) {
    super(message)
    this.name = 'HeaderTooLargeError'
  }
}

/** The header is not a msgpack map. */
export class HeaderDecodeError extends WireError {
  static override name = 'HeaderDecodeError'
  constructor(message: string) {
    super(message)
    this.name = 'HeaderDecodeError'
  }
}

/** A header field is missing, unknown or of the wrong type. */
export class HeaderFieldError extends WireError {
  static override name = 'HeaderFieldError'
  constructor(message: string) {
    super(message)
    this.name = 'HeaderFieldError'
  }
}

/** The header version is not one this build reads. */
export class UnsupportedVersionError extends WireError {
  static override name = 'UnsupportedVersionError'
  constructor(message: string) {
    super(message)
    this.name = 'UnsupportedVersionError'
  }
}

/** The dtype is not one of DTYPES. */
export class UnknownDTypeError extends WireError {
  static override name = 'UnknownDTypeError'
  constructor(message: string) {
    super(message)
    this.name = 'UnknownDTypeError'
  }
}

/** The codec is not one of WIRE_CODECS. */
export class UnknownCodecError extends WireError {
  static override name = 'UnknownCodecError'
  constructor(message: string) {
    super(message)
    this.name = 'UnknownCodecError'
  }
}

/** A dimension is not a non-negative safe integer. */
export class BadShapeError extends WireError {
  static override name = 'BadShapeError'
  constructor(message: string) {
    super(message)
    this.name = 'BadShapeError'
  }
}

/** The declared bytes do not match what shape, dtype and codec imply. */
export class SizeMismatchError extends WireError {
  static override name = 'SizeMismatchError'
  constructor(message: string) {
    super(message)
    this.name = 'SizeMismatchError'
  }
}

/** A size is over the configured limit. */
export class LimitExceededError extends WireError {
  static override name = 'LimitExceededError'
  constructor(message: string) {
    super(message)
    this.name = 'LimitExceededError'
  }
}

/** CodecMeta does not fit the codec. */
export class CodecMetaError extends WireError {
  static override name = 'CodecMetaError'
  constructor(message: string) {
    super(message)
    this.name = 'CodecMetaError'
  }
}

/** The padding between header and payload is not zero. */
export class BadPaddingError extends WireError {
  static override name = 'BadPaddingError'
  constructor(message: string) {
    super(message)
    this.name = 'BadPaddingError'
  }
}

/** Sparse indices are malformed, out of range or not increasing. */
export class SparseIndexError extends WireError {
  static override name = 'SparseIndexError'
  constructor(message: string) {
    super(message)
    this.name = 'SparseIndexError'
  }
}

/** A compressed payload does not inflate. */
export class CorruptPayloadError extends WireError {
  static override name = 'CorruptPayloadError'
  constructor(message: string) {
    super(message)
    this.name = 'CorruptPayloadError'
  }
}

/** A raw bool payload holds a byte other than 0 or 1. */
export class BadBoolError extends WireError {
  static override name = 'BadBoolError'
  constructor(message: string) {
    super(message)
    this.name = 'BadBoolError'
  }
}

/** A codec or policy was called with options it cannot honour (a caller's bug, not a wire fault). */
export class InvalidOptionError extends Error {
  static override name = 'InvalidOptionError'
  constructor(message: string) {
    super(message)
    this.name = 'InvalidOptionError'
  }
}

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
