/**
 * One class per failure; `name` is the code callers branch on (`err.name === 'TransferIncompleteError'`).
 * Messages say what was expected and what was found.
 */
import type { TensorHeader } from '@atoll/compress'
import { AtollError } from '@atoll/core'

/** A frame declared a length above the limit, or a stream carried bytes that are not a valid frame. */
export class MalformedFrameError extends AtollError {}

/** The receiver already holds as many partly-received tensor bytes as it allows; the new one is refused. */
export class InboxFullError extends AtollError {}

/** The stream ended, was reset, or the peer died before the whole message arrived. Nothing partial is delivered. */
export class TransferIncompleteError extends AtollError {}

/** The sender's AbortSignal fired; the streams were reset. */
export class TransferCancelledError extends AtollError {
  constructor(message = 'transfer cancelled') {
    super(message)
  }
}

/**
 * The receiver `peer` refused the message and said why; `remoteName` is the name of its error
 * (`TensorRefusedError` when its gate refused, `LimitExceededError`, `InboxFullError`…).
 */
export class TransferRejectedError extends AtollError {
  readonly peer: string
  readonly remoteName: string
  constructor(peer: string, remoteName: string, message: string) {
    super(`tensor refused by ${peer}: ${message} (${remoteName})`)
    this.peer = peer
    this.remoteName = remoteName
  }
}

/**
 * This receiver's tensor gate refused a message at its header (a job it does not run, a sender that is
 * not a member of the job), before any of its payload was allocated or read. The sender is told `reason`.
 */
export class TensorRefusedError extends AtollError {
  readonly header: TensorHeader
  readonly from: string
  readonly reason: string
  constructor(message: string, refusal: { header: TensorHeader; from: string; reason: string }) {
    super(message)
    this.header = refusal.header
    this.from = refusal.from
    this.reason = refusal.reason
  }
}

/** A peer could not be dialled, or does not speak the protocol. */
export class PeerUnreachableError extends AtollError {}

/** A value did not match its schema (ctrl requests and responses, probe requests). */
export class SchemaError extends AtollError {}

/** A ctrl call got no answer in time. */
export class CtrlTimeoutError extends AtollError {}

/** The remote handler failed; `remoteName` is the name of its error (e.g. `UnknownMethodError`). */
export class CtrlRemoteError extends AtollError {
  readonly remoteName: string
  constructor(remoteName: string, message: string) {
    super(`${remoteName}: ${message}`)
    this.remoteName = remoteName
  }
}

/** A ctrl request named a method the peer does not serve. */
export class UnknownMethodError extends AtollError {}

/** A probe could not be completed (stream failure, bad answer). */
export class ProbeFailedError extends AtollError {}

/** A peer asked this node to probe for it without holding this node's probe floor. */
export class ProbeFloorError extends AtollError {}

/** The identity file in the data directory is unreadable, corrupt or readable by others. */
export class IdentityFileError extends AtollError {}

/** An emulated link was configured with a rate or delay that is not a positive finite number. */
export class LinkConfigError extends AtollError {}

/** A WebRTC peer connection failed while connecting (its DTLS handshake, mostly), in every attempt of a dial. */
export class WebRtcHandshakeError extends AtollError {}

/** No reservation on a circuit relay: it could not be dialled, refused one, or none came in time. */
export class RelayReservationError extends AtollError {}

/** A STUN/TURN server given for WebRTC is not a stun:, turn: or turns: URL. */
export class IceServerError extends AtollError {}
