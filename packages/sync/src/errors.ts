/**
 * One error class per failure of a collective; `name` is the class name, so callers branch on
 * `err.name`. Rejected incoming messages are not errors of the caller: they are reported as
 * SyncRejection (inbox.ts) and the collective goes on.
 */
import { AtollError } from '@atoll/core'

export class SyncError extends AtollError {}

/** A group's members or links, or a collective's options, cannot be used (the caller's mistake). */
export class InvalidSyncOptionError extends SyncError {}

/** A collective for a round before the group's current one, or a (round, name) that already ran. */
export class RoundOrderError extends SyncError {}

/** The caller's own tensor holds NaN or ±Inf; nothing was sent. */
export class NonFiniteInputError extends SyncError {}

/** The group was closed while a collective ran. */
export class SyncClosedError extends SyncError {}

/** A sync message's edge or notice does not parse (becomes a rejection reason, never thrown to a caller). */
export class SyncMessageError extends SyncError {}

/**
 * Members that missed a collective's deadline, or could not be reached, or were reported late by
 * another member's notice. Every member that waited on them fails with this error; the round can be
 * run again without them (`SyncGroup.exclude(err.peers)`), and a member that finds its own id here
 * sits the round out instead.
 */
export class LateReplicaError extends SyncError {
  /** peer ids of the late members, in member order */
  readonly peers: string[]
  readonly round: number
  /** the collective's name */
  readonly collective: string

  constructor(peers: string[], round: number, collective: string, detail: string, options?: ErrorOptions) {
    super(`round ${round}, '${collective}': late ${peers.join(', ')} (${detail})`, options)
    this.peers = peers
    this.round = round
    this.collective = collective
  }
}
