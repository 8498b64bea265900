import { keepRatio } from '@atoll/compress'
import { MIN_ACTIVATION_KEEP_RATIO, WIRE_BYTES_PER_KEPT } from './constants.ts'
import {
  DEFAULT_OVERHEADS,
  type StepOverheads,
  stageBusySeconds,
  topkCodecRatio,
  transferSeconds,
} from './estimator.ts'
import type { BoundaryEdge, Stage } from './types.ts'

/**
 * AdaTopK (ARCHITECTURE.md): a compressed transfer should take no longer than the compute it
 * overlaps. A stage sends a micro-batch's boundary tensor while it computes the next, so a link is
 * hidden while its bytes take no longer on the wire than the slowest stage's time per micro-batch
 * (compute plus the runtime's per-micro-batch overhead): the pipeline's slot. For each fence edge
 * whose dense bytes take longer — the edges that would otherwise set the slot — keep the fraction ρ
 * of elements (compress's keepRatio rule) whose top-k + fp16 bytes take that long, no less (the
 * latency overlaps too: it is not on the wire). Every other edge stays dense.
 */
export function assignKeepRatios(
  stages: readonly Stage[],
  edges: readonly BoundaryEdge[],
  overheads: StepOverheads = DEFAULT_OVERHEADS,
): BoundaryEdge[] {
  const target = Math.max(
    0,
    ...stages.map((s) => stageBusySeconds(s.computeSeconds, s.ops.length, overheads)),
  )
  return edges.map((e) => {
    const wire = e.seconds - e.rttSeconds / 2
    if (!e.crossesFence || wire <= target || e.bytes === 0) return e
    const ratio = keepRatio({
      // keepRatio sizes a dense transfer; top-k ships WIRE_BYTES_PER_KEPT per kept dense byte
      bytes: e.bytes * WIRE_BYTES_PER_KEPT,
      bandwidthBps: e.bandwidthBps,
      targetSeconds: target,
      min: MIN_ACTIVATION_KEEP_RATIO,
      max: 1,
    })
    if (topkCodecRatio(ratio) >= 1) return e
    return {
      ...e,
      codec: 'topk-fp16' as const,
      keepRatio: ratio,
      seconds: transferSeconds(e.bytes, e.bandwidthBps, e.rttSeconds, topkCodecRatio(ratio)),
    }
  })
}
