/** Protocol ids and defaults of the Atoll protocols; every default is overridable through the services' init. */

export const TENSOR_PROTOCOL = '/atoll/tensor/1'
export const PROBE_PROTOCOL = '/atoll/probe/1'
export const CTRL_PROTOCOL = '/atoll/ctrl/1'

/** Largest frame on any Atoll stream: 1 MiB keeps yamux/Noise buffers bounded and lets streams interleave. */
export const MAX_FRAME_BYTES = 1 << 20

/** Bytes of a frame's length prefix (u32, big-endian). */
export const FRAME_PREFIX_BYTES = 4

/**
 * Payload bytes a receiver holds for tensors not yet complete, over all senders; beyond it a new tensor is
 * refused with InboxFullError (the per-message limit is the wire format's `maxPayloadBytes`).
 */
export const DEFAULT_MAX_PENDING_BYTES = 4 * 2 ** 30

/** Tensors above this size are striped over several streams (see `stripes`). */
export const DEFAULT_STRIPE_THRESHOLD_BYTES = 16 << 20

/** A sender stripes over at most this many streams by default. */
export const DEFAULT_MAX_STRIPES = 4

/** A receiver accepts at most this many stripes per tensor. */
export const MAX_STRIPES = 64

/** Protocol handlers accept this many concurrent inbound streams per connection (libp2p's default is 32). */
export const DEFAULT_MAX_STREAMS = 256

/** A striped tensor whose other parts stop arriving for this long is abandoned. */
export const DEFAULT_ASSEMBLY_TIMEOUT_MS = 60_000

/** A ctrl call without an answer after this long fails with CtrlTimeoutError. */
export const DEFAULT_CTRL_TIMEOUT_MS = 10_000

/** Ctrl requests and responses are small JSON documents. */
export const DEFAULT_MAX_CTRL_BYTES = 1 << 20

/** A probe aims to take about this long in total. */
export const DEFAULT_PROBE_SECONDS = 1

/** Upper bound on one probe transfer, so a probe cannot be used to make a peer swallow unbounded data. */
export const MAX_PROBE_BYTES = 2 ** 31

/** Round trips measured per probe (the median is kept). */
export const PROBE_RTT_ROUNDS = 5

/**
 * libp2p pings every connection and aborts it when a ping takes over 5 s (adaptive). A ping waits behind
 * the bulk data already queued on the connection, which on a slow link or a busy CPU is seconds of
 * tensors: the default would kill healthy connections mid-transfer. A dead peer is still noticed (TCP
 * reset, stream inactivity, or this ping after 30 s).
 */
export const CONNECTION_MONITOR = { pingTimeout: { minTimeout: 30_000, maxTimeout: 120_000 } }
