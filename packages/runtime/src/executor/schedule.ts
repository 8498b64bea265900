/** One unit of pipeline work: forward or backward of micro-batch `mb` on stage `stage`. */
export interface PipelineOp {
  kind: 'F' | 'B'
  stage: number
  mb: number
}

export type PipelineSchedule = 'gpipe' | '1f1b'

/**
 * Each stage's own order of work. GPipe: every forward, then every backward (most activations held).
 * 1F1B (PipeDream-Flush): stage s warms up with min(S−s, M) forwards, then alternates one backward
 * and one forward, then drains; at most S−s micro-batches are in flight on it. `inFlight` warms up
 * with more, where the way to the last stage and back is long (slow links: sched's predictStep says
 * how many); it must not fall along the stages (each at least the next one's), or a stage would
 * wait for a backward that waits for its forward.
 */
export function stageOrder(
  kind: PipelineSchedule,
  stages: number,
  microBatches: number,
  stage: number,
  inFlight = stages - stage,
): PipelineOp[] {
  const F = (mb: number): PipelineOp => ({ kind: 'F', stage, mb })
  const B = (mb: number): PipelineOp => ({ kind: 'B', stage, mb })
  const M = microBatches
  if (kind === 'gpipe') {
    return [
      ...Array.from({ length: M }, (_, m) => F(m)),
      ...Array.from({ length: M }, (_, m) => B(M - 1 - m)),
    ]
  }
  const warm = Math.min(Math.max(1, inFlight), M)
  const ops: PipelineOp[] = []
  for (let m = 0; m < warm; m++) ops.push(F(m))
  for (let m = 0; m < M; m++) {
    ops.push(B(m))
    if (warm + m < M) ops.push(F(warm + m))
  }
  return ops
}

/**
 * A single-process serialisation of the per-stage orders: repeatedly run, stage by stage, the next
 * op whose dependencies are done (F(s, m) needs F(s−1, m); B(s, m) needs B(s+1, m), and F(s, m) on
 * the last stage). The result respects every stage's own order, so activation memory per stage is
 * what the schedule promises.
 */
export function pipelineOrder(
  kind: PipelineSchedule,
  stages: number,
  microBatches: number,
  inFlight?: readonly number[],
): PipelineOp[] {
  const queues = Array.from({ length: stages }, (_, s) =>
    stageOrder(kind, stages, microBatches, s, inFlight?.[s]),
  )
  const heads = new Array<number>(stages).fill(0)
  const doneF = Array.from({ length: stages }, () => new Uint8Array(microBatches))
  const doneB = Array.from({ length: stages }, () => new Uint8Array(microBatches))
  const ready = (op: PipelineOp): boolean =>
    op.kind === 'F'
      ? op.stage === 0 || doneF[op.stage - 1][op.mb] === 1
      : doneF[op.stage][op.mb] === 1 && (op.stage === stages - 1 || doneB[op.stage + 1][op.mb] === 1)
  const order: PipelineOp[] = []
  const total = 2 * stages * microBatches
  while (order.length < total) {
    let progressed = false
    for (let s = 0; s < stages; s++) {
      const op = queues[s][heads[s]]
      if (op === undefined || !ready(op)) continue
      ;(op.kind === 'F' ? doneF : doneB)[s][op.mb] = 1
      heads[s]++
      order.push(op)
      progressed = true
    }
    if (!progressed)
      throw new Error(
        `pipeline schedule ${kind} deadlocked (${stages} stages, ${microBatches} micro-batches)`,
      )
  }
  return order
}
