import type { Graph } from '@atoll/core'
import type { Feed, Value } from '../backend/backend.ts'

/** What the Pipeline drives: a stage's forward and backward per micro-batch. */
export interface PipelineStage {
  readonly graph: Graph
  /** sessions compiled so far (one per input-shape signature) */
  readonly signatures: number
  /** `seeds`: gradients known before forward (the loss seed), for stages that run both directions at once */
  forward(
    mb: number,
    feeds: Record<string, Feed>,
    seeds?: Record<string, Feed>,
  ): Promise<Record<string, Value>>
  backward(mb: number, outputGrads: Record<string, Feed>): Promise<Record<string, Value>>
  /** before a step's first forward: e.g. copy the weights to the GPU once for all its micro-batches */
  beginStep(): Promise<void>
  /** after a step's last backward (also when it failed) */
  endStep(): void
  reset(): void
  release(): Promise<void>
}
