/**
 * What a collective sends: dense float32, int8 with a per-block scale, or top-k with error feedback
 * (what top-k drops is kept per member, per tensor name and piece, and sent in later rounds). The
 * codecs and the feedback are @atoll/compress's; this file only picks and parameterises them.
 */
import {
  type Encoded,
  type ErrorFeedback,
  INT8_BLOCK,
  int8,
  keepCount,
  raw,
  type SparseValues,
  topk,
  type WireCodec,
} from '@atoll/compress'
import { codecWireRatio } from '@atoll/sched'
import { InvalidSyncOptionError } from './errors.ts'

export type SyncCompression =
  | { codec: 'none' }
  | {
      codec: 'int8'
      /** values per scale (default 256) */
      block?: number
    }
  | {
      codec: 'topk'
      /** fraction of each piece's elements kept, in (0, 1] */
      ratio: number
      /** how kept values travel (default float32) */
      values?: SparseValues
    }

const NONE: SyncCompression = { codec: 'none' }

/** The compression checked, with defaults filled in. */
export function checkCompression(compression: SyncCompression = NONE): SyncCompression {
  switch (compression.codec) {
    case 'none':
      return NONE
    case 'int8': {
      const block = compression.block ?? INT8_BLOCK
      if (!Number.isSafeInteger(block) || block < 1 || block > 1 << 16) {
        throw new InvalidSyncOptionError(
          `compression.block: expected an integer in [1, 65536], found ${block}`,
        )
      }
      return { codec: 'int8', block }
    }
    case 'topk': {
      const { ratio, values = 'float32' } = compression
      if (!(ratio > 0 && ratio <= 1)) {
        throw new InvalidSyncOptionError(`compression.ratio: expected a number in (0, 1], found ${ratio}`)
      }
      if (values !== 'float32' && values !== 'float16') {
        throw new InvalidSyncOptionError(`compression.values: expected float32 or float16, found ${values}`)
      }
      return { codec: 'topk', ratio, values }
    }
    default:
      throw new InvalidSyncOptionError(
        `compression.codec: expected none, int8 or topk, found ${(compression as { codec: unknown }).codec}`,
      )
  }
}

/**
 * What of the compression the replicas must agree on: the codec (the receiver checks it). Ratios,
 * blocks and value widths travel in each message's codecMeta, so they may differ between members
 * and change between rounds (AdaTopK) without starting the residuals afresh.
 */
export function describeCompression(compression: SyncCompression): string {
  return compression.codec
}

/** The wire codec a compression's messages carry. */
export function wireCodecOf(compression: SyncCompression): WireCodec {
  return compression.codec === 'none' ? 'raw' : compression.codec === 'int8' ? 'int8' : 'sparse'
}

/** Wire bytes per dense byte (sched's ratios; top-k's assumes float16 values, float32 ones cost 4/3 of it). */
export function wireRatio(compression: SyncCompression): number {
  if (compression.codec === 'int8') return codecWireRatio('int8')
  if (compression.codec === 'topk') {
    const ratio = codecWireRatio('topk-fp16', compression.ratio)
    return compression.values === 'float16' ? ratio : Math.min(1, (ratio * 4) / 3)
  }
  return 1
}

/**
 * Encodes one piece. Top-k goes through `feedback` under `feedbackKey`: the piece plus what earlier
 * rounds dropped is compressed, and what this round drops is kept for the next.
 */
export function encodePiece(
  compression: SyncCompression,
  piece: Float32Array,
  feedback: ErrorFeedback,
  feedbackKey: string,
): Encoded {
  switch (compression.codec) {
    case 'none':
      return raw.encode(piece)
    case 'int8':
      return int8.encode(piece, { block: compression.block })
    case 'topk': {
      const { ratio, values } = compression
      return feedback.step(feedbackKey, piece, (x) =>
        topk.encode(x, { k: keepCount(x.length, ratio), values }),
      )
    }
  }
}
