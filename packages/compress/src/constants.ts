/** Version of the tensor message header (`v`); a receiver rejects any other. */
export const WIRE_VERSION = 1

/** First four bytes of every tensor message: ASCII "ATLT" (Atoll tensor). */
export const WIRE_MAGIC = Uint8Array.of(0x41, 0x54, 0x4c, 0x54)

/** magic (4 bytes) + header length (u32 little-endian) */
export const WIRE_PREFIX_BYTES = 8

/**
 * The payload starts at a multiple of 8 bytes from the start of the message, so a receiver whose
 * buffer starts the message at an 8-aligned offset can view float64/int64 payloads without a copy.
 */
export const PAYLOAD_ALIGNMENT = 8

/** Values per int8 block: one float32 scale per 256 values costs 1.6 % of the int8 payload. */
export const INT8_BLOCK = 256

/** Largest int8 block a header may declare (bounds the per-block scratch a decoder trusts). */
export const INT8_MAX_BLOCK = 1 << 16

/** Elements drawn to estimate the top-k-sampled threshold: enough for ±3 % on k at 1 % of n. */
export const TOPK_SAMPLE_SIZE = 1 << 14

export interface WireLimits {
  /** largest msgpack header accepted, bytes (default 16 KiB) */
  maxHeaderBytes: number
  /** largest payload accepted, bytes (default 1 GiB) */
  maxPayloadBytes: number
  /** largest element count of a tensor (bounds the decoded allocation; default 2^28) */
  maxElements: number
  /** largest rank (default 16) */
  maxRank: number
  /** longest `job` or `edge` string, characters (default 256) */
  maxNameLength: number
}

export const DEFAULT_LIMITS: Readonly<WireLimits> = {
  maxHeaderBytes: 16 * 1024,
  maxPayloadBytes: 1 << 30,
  maxElements: 1 << 28,
  maxRank: 16,
  maxNameLength: 256,
}
