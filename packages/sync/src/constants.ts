/** Defaults of @atoll/sync; each can be overridden through SyncGroupInit or a collective's options. */

/** Every sync message's edge starts with this; a job's own edges (`h.0->h.1`, `tied:…`) never do. */
export const SYNC_EDGE_PREFIX = 'sync:'

/**
 * Elements per piece (64 Ki floats, 256 KiB dense). At 100 Mbit/s a piece is ~21 ms on the wire:
 * short enough that an owner's all-gather starts while the rest of its reduce-scatter still arrives,
 * long enough that the cost of each message (a stream, a header, the receiver's status frame: about
 * a millisecond on loopback) stays a few per cent.
 */
export const DEFAULT_PIECE_ELEMENTS = 1 << 16

/**
 * Messages in flight to one destination: each send waits for the receiver's status frame, so with
 * one at a time a link would idle for a round trip between pieces.
 */
export const DEFAULT_SENDS_IN_FLIGHT = 4

/** Deadline = slack × predicted seconds + floor (see deadline.ts). Measured bandwidth drifts; 3× absorbs it. */
export const DEFAULT_DEADLINE_SLACK = 3

/**
 * Added to every deadline: a replica that is busy (a backward pass, a GC pause on a shared core)
 * answers late by this much without being lost. Tests pass a smaller floor.
 */
export const DEFAULT_DEADLINE_FLOOR_SECONDS = 2

/**
 * What a message costs beyond its bytes (a stream opened, a header checked, a status frame back),
 * counted into deadlines per message a member sends or receives: about 1 ms. Four meshes in one
 * process on 2 cores took ~4 ms a message (a 1000-element all-reduce in 16-element pieces, 376
 * messages, 1.4 s); tests that run so give a larger floor.
 */
export const DEFAULT_MESSAGE_SECONDS = 0.001

/**
 * Longest collective name: the edge `sync:<fingerprint>:<phase>:<chunk>:<name>` must stay within the
 * wire format's 256-character names.
 */
export const MAX_NAME_LENGTH = 200

/** Largest member count (chunk indices and notices are bounded by it). */
export const MAX_MEMBERS = 4096

/**
 * Bytes of messages held for collectives this replica has not started yet (a faster replica's
 * round r+1 arrives while this one is still in round r). Past it, early messages are refused.
 */
export const DEFAULT_MAX_EARLY_BYTES = 1 << 30

/** Copies of one early message kept until it can be checked (a bad copy must not shut out the good one). */
export const MAX_EARLY_COPIES = 4

/** The default collective name (a caller that reduces several tensors in one round names each). */
export const DEFAULT_COLLECTIVE_NAME = 'sum'
