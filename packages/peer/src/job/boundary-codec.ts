/**
 * How each boundary tensor of a job crosses its link, from the plan. The plan gives a codec to each
 * boundary between consecutive stages; a value that skips stages (a residual read two stages on) goes
 * straight from its producer's peer to its reader's, and crosses every fence between them: it takes
 * the tightest codec of the boundaries it spans (the lowest keep ratio), dense when none compresses.
 */
import type { Partition } from '@atoll/core'
import type { BoundaryCodec, JobPlacement } from '@atoll/sched'
import type { EdgeCodec } from './rpc.ts'

/** The codec of a partition edge (a value from stage `from` to stage `to`) under the plan. */
export function boundaryCodec(
  placement: Pick<JobPlacement, 'boundaries'>,
  edge: Pick<Partition['edges'][number], 'from' | 'to'>,
): { codec: EdgeCodec; keep: number } {
  const spanned = placement.boundaries.filter(
    (b) => b.from >= edge.from && b.to <= edge.to && b.codec !== 'dense',
  )
  if (spanned.length === 0) return { codec: 'dense', keep: 1 }
  const tightest = spanned.reduce((a, b) => (wireShare(b) < wireShare(a) ? b : a))
  return { codec: tightest.codec as EdgeCodec, keep: tightest.codec === 'topk-fp16' ? tightest.keepRatio : 1 }
}

/** About how much of the dense bytes a codec sends: what "tightest" compares. */
function wireShare(b: BoundaryCodec): number {
  if (b.codec === 'topk-fp16') return b.keepRatio
  return b.codec === 'int8' ? 0.25 : 0.5
}
