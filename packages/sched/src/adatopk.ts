import { keepRatio } from '@atoll/compress'
import { MIN_ACTIVATION_KEEP_RATIO, WIRE_BYTES_PER_KEPT } from './constants.ts'
import { topkCodecRatio, transferSeconds } from './estimator.ts'
import type { BoundaryEdge, Stage } from './types.ts'

/**
 * AdaTopK (ARCHITECTURE.md): for each fence edge whose dense transfer takes longer than the slowest
 * stage's compute — the edges that would otherwise be the bottleneck — keep the fraction ρ of
 * elements (compress's keepRatio rule) whose top-k + fp16 transfer takes no longer than that
 * compute. Every other edge stays dense.
 */
export function assignKeepRatios(stages: readonly Stage[], edges: readonly BoundaryEdge[]): BoundaryEdge[] {
  const target = Math.max(0, ...stages.map((s) => s.computeSeconds))
  return edges.map((e) => {
    if (!e.crossesFence || e.seconds <= target || e.bytes === 0) return e
    const ratio = keepRatio({
      // keepRatio sizes a dense transfer; top-k ships WIRE_BYTES_PER_KEPT per kept dense byte
      bytes: e.bytes * WIRE_BYTES_PER_KEPT,
      bandwidthBps: e.bandwidthBps,
      targetSeconds: Math.max(0, target - e.rttSeconds / 2),
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
