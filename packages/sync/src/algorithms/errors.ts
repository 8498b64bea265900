/**
 * Failures of the training algorithms above the collectives (the collectives' own are in
 * ../errors.ts). Each class is one failure; `name` is the class name, so callers branch on it.
 */
import { SyncError } from '../errors.ts'

/** A sync spec (the job file's `sync:`) that cannot be used; the message names the field. */
export class SyncSpecError extends SyncError {}

/** A synchronizer used against its contract: a hook out of order, parameters that do not match. */
export class SynchronizerUsageError extends SyncError {}

/** A roster change that cannot be made: an unknown peer, a peer twice, this replica after it left. */
export class MembershipError extends SyncError {}

/** A joiner's state did not arrive whole and valid in time, or does not fit its replica. */
export class ReplicaStateError extends SyncError {}

/**
 * This replica missed what it needs to stay in step (a DreamDDP schedule agreed without it, whose
 * outcome no member told it): it must be admitted again from a live replica.
 */
export class ReplicaDivergedError extends SyncError {}
