/**
 * Failures of the federated-learning core that are the caller's to handle (a bad option, a round
 * driven out of order). A client's bad update is not one of them: it is an FlRejection (update.ts),
 * returned by `submit`, and the round goes on.
 */
import { SyncError } from '../errors.ts'

export class FlError extends SyncError {}

/** An option, strategy or client figure (bandwidth, sample count) that cannot be used; names the field or client. */
export class FlOptionError extends FlError {}

/** A client id registered twice, or a call about a client that is not registered. */
export class FlClientError extends FlError {}

/** Fewer clients are registered than a round must select. */
export class NotEnoughClientsError extends FlError {}

/** A round driven out of order: started while one is open, finished before it may be, or none open. */
export class FlRoundStateError extends FlError {}

/** A client cannot train what the federation asks for (another dataset, a model with running statistics). */
export class FlTrainingError extends FlError {}
