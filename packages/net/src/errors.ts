/**
 * One class per failure; `name` is the code callers branch on (`err.name === 'TransferIncompleteError'`).
 * Messages say what was expected and what was found.
 */

/** A frame declared a length above the limit, or a stream carried bytes that are not a valid frame. */
export class MalformedFrameError extends Error {
  static override name = 'MalformedFrameError'
  constructor(message = 'malformed frame') {
    super(message)
    this.name = 'MalformedFrameError'
  }
}

/** The receiver already holds as many partly-received tensor bytes as it allows; the new one is refused. */
export class InboxFullError extends Error {
  static override name = 'InboxFullError'
  constructor(message = 'receiver has too many tensor bytes in flight') {
    super(message)
    this.name = 'InboxFullError'
  }
}

/** The stream ended, was reset, or the peer died before the whole message arrived. Nothing partial is delivered. */
export class TransferIncompleteError extends Error {
  static override name = 'TransferIncompleteError'
  constructor(message = 'transfer ended before the whole message arrived') {
    super(message)
    this.name = 'TransferIncompleteError'
  }
}

/** The sender's AbortSignal fired; the streams were reset. */
export class TransferCancelledError extends Error {
  static override name = 'TransferCancelledError'
  constructor(message = 'transfer cancelled') {
    super(message)
    this.name = 'TransferCancelledError'
  }
}

/** The receiver refused the message and said why (its error name is `remoteName`). */
export class TransferRejectedError extends Error {
  static override name = 'TransferRejectedError'
  readonly remoteName: string
  constructor(remoteName: string, message: string) {
    super(`receiver refused the message: ${remoteName}: ${message}`)
    this.name = 'TransferRejectedError'
    this.remoteName = remoteName
  }
}

/** A peer could not be dialled, or does not speak the protocol. */
export class PeerUnreachableError extends Error {
  static override name = 'PeerUnreachableError'
  constructor(message = 'peer unreachable') {
    super(message)
    this.name = 'PeerUnreachableError'
  }
}

/** A value did not match its schema (ctrl requests and responses, probe requests). */
export class SchemaError extends Error {
  static override name = 'SchemaError'
  constructor(message = 'value does not match its schema') {
    super(message)
    this.name = 'SchemaError'
  }
}

/** A ctrl call got no answer in time. */
export class CtrlTimeoutError extends Error {
  static override name = 'CtrlTimeoutError'
  constructor(message = 'ctrl call timed out') {
    super(message)
    this.name = 'CtrlTimeoutError'
  }
}

/** The remote handler failed; `remoteName` is the name of its error (e.g. `UnknownMethodError`). */
export class CtrlRemoteError extends Error {
  static override name = 'CtrlRemoteError'
  readonly remoteName: string
  constructor(remoteName: string, message: string) {
    super(`${remoteName}: ${message}`)
    this.name = 'CtrlRemoteError'
    this.remoteName = remoteName
  }
}

/** A ctrl request named a method the peer does not serve. */
export class UnknownMethodError extends Error {
  static override name = 'UnknownMethodError'
  constructor(message = 'unknown ctrl method') {
    super(message)
    this.name = 'UnknownMethodError'
  }
}

/** A probe could not be completed (stream failure, bad answer). */
export class ProbeFailedError extends Error {
  static override name = 'ProbeFailedError'
  constructor(message = 'probe failed') {
    super(message)
    this.name = 'ProbeFailedError'
  }
}

/** The identity file in the data directory is unreadable, corrupt or readable by others. */
export class IdentityFileError extends Error {
  static override name = 'IdentityFileError'
  constructor(message = 'bad identity file') {
    super(message)
    this.name = 'IdentityFileError'
  }
}

/** An emulated link was configured with a rate or delay that is not a positive finite number. */
export class LinkConfigError extends Error {
  static override name = 'LinkConfigError'
  constructor(message = 'bad link configuration') {
    super(message)
    this.name = 'LinkConfigError'
  }
}
