/**
 * The FIFO cost model of DreamDDP partial synchronisation (ARCHITECTURE.md, "Scheduling").
 *
 * Layers are indexed in backward order ℓ = 0…L−1. Backward finishes layer ℓ at
 * B_ℓ = Σ_{j≤ℓ} bp[j]; the whole backward pass ends at T = B_{L−1} + tail. The layers synchronised
 * in one iteration share one FIFO channel in backward order: start_ℓ = max(B_ℓ, previous end),
 * end_ℓ = start_ℓ + comm[ℓ]; the iteration waits max(0, last end − T).
 *
 * `tail` extends the model: backward time of modules that come after the last synchronised layer
 * (in the Qwen profiles the frozen embedding has a backward time but no all-reduce). It delays T,
 * and so hides communication, without being a layer of its own.
 */

/** One period's scheduling problem. All times in seconds. */
export interface SyncProblem {
  /** layer names, backward order */
  names: string[]
  /** backward time of each layer, backward order */
  bp: number[]
  /** all-reduce time of each layer's parameters, backward order */
  comm: number[]
  /** backward time after the last layer's gradient is ready (default 0) */
  tail?: number
  /** iterations per period, H ≥ 1 */
  period: number
}

/** Ready times B_ℓ and the end of backward T. */
export interface Timeline {
  ready: Float64Array
  backwardEnd: number
}

export function timeline(problem: SyncProblem): Timeline {
  const ready = new Float64Array(problem.bp.length)
  let t = 0
  for (let l = 0; l < ready.length; l++) {
    t += problem.bp[l]
    ready[l] = t
  }
  return { ready, backwardEnd: t + (problem.tail ?? 0) }
}

/** End of the FIFO channel after sending `layers` (ascending backward indices); 0 if none. */
export function channelEnd(layers: readonly number[], ready: Float64Array, comm: readonly number[]): number {
  let end = 0
  for (const l of layers) end = Math.max(end, ready[l]) + comm[l]
  return end
}

/** The wait of one iteration that synchronises `layers` (ascending backward indices). */
export function iterationWait(
  layers: readonly number[],
  problem: SyncProblem,
  tl = timeline(problem),
): number {
  return Math.max(0, channelEnd(layers, tl.ready, problem.comm) - tl.backwardEnd)
}

/**
 * Layers of each iteration, from a schedule given per layer as the iterations it is synchronised
 * in. Each list is ascending, i.e. in FIFO order.
 */
export function layersByIteration(
  iterationsOfLayer: readonly (readonly number[])[],
  period: number,
): number[][] {
  const out: number[][] = Array.from({ length: period }, () => [])
  iterationsOfLayer.forEach((its, l) => {
    for (const h of its) out[h].push(l)
  })
  return out
}

/** Wait of every iteration of the period under a schedule (iterations per layer). */
export function scheduleWaits(
  iterationsOfLayer: readonly (readonly number[])[],
  problem: SyncProblem,
): number[] {
  const tl = timeline(problem)
  return layersByIteration(iterationsOfLayer, problem.period).map((ls) => iterationWait(ls, problem, tl))
}

/** Sum of a list of numbers. */
export function sum(values: ArrayLike<number>): number {
  let s = 0
  for (let i = 0; i < values.length; i++) s += values[i]
  return s
}
