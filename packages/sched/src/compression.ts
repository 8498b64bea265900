/**
 * What crosses a fence, as a job asks for it: AdaTopK's keep ratios (the default), nothing
 * compressed, or one codec fixed for every fence edge. Edges inside a cluster always stay dense:
 * their links are fast enough that compressing them would cost accuracy for no time.
 */
import * as z from 'zod/mini'
import { assignKeepRatios } from './adatopk.ts'
import { MIN_ACTIVATION_KEEP_RATIO } from './constants.ts'
import { codecWireRatio, type StepOverheads, topkCodecRatio, transferSeconds } from './estimator.ts'
import type { BoundaryEdge, Stage } from './types.ts'

/** A codec a job fixes for its fence edges; top-k also fixes the fraction of elements it keeps. */
export type FenceCodec = { codec: 'fp16' | 'int8' } | { codec: 'topk-fp16'; keep: number }

export type Compression = 'adatopk' | 'none' | FenceCodec

export const compressionSchema: z.ZodMiniType<Compression> = z.union([
  z.enum(['adatopk', 'none']),
  z.discriminatedUnion('codec', [
    z.object({ codec: z.enum(['fp16', 'int8']) }),
    z.object({ codec: z.literal('topk-fp16'), keep: z.number().check(z.positive(), z.lte(1)) }),
  ]),
])

/** The edges as `compression` sends them, each with its transfer time at that codec. */
export function compressFenceEdges(
  stages: readonly Stage[],
  edges: readonly BoundaryEdge[],
  compression: Compression,
  overheads?: StepOverheads,
): BoundaryEdge[] {
  if (compression === 'none') return [...edges]
  if (compression === 'adatopk') return assignKeepRatios(stages, edges, overheads)
  const keepRatio = compression.codec === 'topk-fp16' ? compression.keep : 1
  const ratio = codecWireRatio(compression.codec, keepRatio)
  return edges.map((e) =>
    !e.crossesFence || e.bytes === 0
      ? e
      : {
          ...e,
          codec: compression.codec,
          keepRatio,
          seconds: transferSeconds(e.bytes, e.bandwidthBps, e.rttSeconds, ratio),
        },
  )
}

/**
 * Wire bytes per dense byte at which a planner prices a compressed fence cut: AdaTopK's at its
 * least keep ratio (the most it may compress), a fixed codec's own, 1 when nothing is compressed.
 */
export function fenceWireRatio(compression: Compression): number {
  if (compression === 'none') return 1
  if (compression === 'adatopk') return topkCodecRatio(MIN_ACTIVATION_KEEP_RATIO)
  return codecWireRatio(compression.codec, compression.codec === 'topk-fp16' ? compression.keep : 1)
}
