/** Defaults of the training algorithms; each can be overridden through the spec or the options. */

/**
 * S-SGD's gradient buckets (and Local SGD's / DiLoCo's parameter buckets): PyTorch DDP's 25 MiB
 * (`bucket_cap_mb`). Each bucket is one named all-reduce; all of a step's buckets run at once.
 */
export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024

/** DiLoCo's outer Nesterov SGD, as in the paper (Douillard et al. 2023, arXiv 2311.08105): lr 0.7, momentum 0.9. */
export const DEFAULT_OUTER_LR = 0.7
export const DEFAULT_OUTER_MOMENTUM = 0.9

/** Longest period: DiLoCo runs hundreds of inner steps; more than this is a typo. */
export const MAX_PERIOD = 1_000_000

/** DreamDDP re-solves its schedule when a measured time moves by more than this fraction (issue 13). */
export const DREAMDDP_DRIFT = 0.2

/**
 * DreamDDP's fill-in leaves this fraction of each iteration's window free: a schedule is kept until
 * its times move by DREAMDDP_DRIFT, so it must absorb a move that large without waiting.
 */
export const DREAMDDP_FILL_HEADROOM = DREAMDDP_DRIFT

/** Edges of the synchronizer's own messages (a joiner's state, a left-out replica's ask and its answers). */
export const REPLICA_EDGE_PREFIX = 'replica:'

/**
 * A member left out of a round waits for its outcome one window at a time (time for every member to
 * retry once), again after each window in which a member said the round still runs there, and at
 * most this many windows: a member that says so for longer is stuck, not slow.
 */
export const MAX_OUTCOME_WAITS = 16

/** Bytes of round outcomes and early state held for later at most (a hostile member cannot fill memory). */
export const MAX_HELD_BYTES = 1 << 30

/** Events a synchronizer keeps in `history` (listeners get every one): about a day of S-SGD steps at 1 Hz is too many to hold. */
export const MAX_HISTORY = 10_000
