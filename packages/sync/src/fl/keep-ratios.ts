/**
 * BCRS keep ratios: each client's top-k keep ratio in proportion to its measured upload bandwidth,
 * ρ_k = clamp(c·B_k, min, max), so that every client whose ratio is not clamped uploads for the same
 * time (ρ_k·bytes / B_k = c·bytes). The scale c is solved so that the mean ratio is the budget: what
 * the clamps take from slow clients (raised to min) or give back from fast ones (cut to max) is
 * redistributed over the unclamped clients.
 *
 * The mean of the clamped ratios, f(c), is continuous and non-decreasing from min (c → 0) to max
 * (c → ∞), so a solution exists exactly when min ≤ budget ≤ max; f is linear between the points
 * where a client enters or leaves its clamp (min/B_k, max/B_k), so c is solved exactly in the
 * segment that holds the budget.
 */
import { FlOptionError } from './errors.ts'

export interface ClientBandwidth {
  client: string
  /** measured upload bandwidth, bytes per second */
  bandwidthBps: number
}

export interface KeepRatioBudget {
  /** the mean keep ratio over the round's clients (the budget a uniform top-k would use) */
  mean: number
  /** the smallest ratio a client is given */
  min: number
  /** the largest ratio a client is given (1: dense) */
  max: number
}

/**
 * Each client's keep ratio, in the clients' order. One client gets the budget's mean; clients of
 * equal bandwidth all get the mean. Throws FlOptionError for an empty list, a client twice, a
 * bandwidth that is not a finite number > 0 (naming the client), or bounds without
 * 0 < min ≤ mean ≤ max ≤ 1.
 */
export function bcrsKeepRatios(
  clients: readonly ClientBandwidth[],
  budget: KeepRatioBudget,
): Map<string, number> {
  checkBudget(budget)
  checkBandwidths(clients)
  const scale = solveScale(
    clients.map((c) => c.bandwidthBps),
    budget,
  )
  return new Map(clients.map((c) => [c.client, clampRatio(scale * c.bandwidthBps, budget)]))
}

export function checkBudget(budget: KeepRatioBudget): void {
  const { mean, min, max } = budget
  if (!(min > 0 && min <= mean && mean <= max && max <= 1)) {
    throw new FlOptionError(
      `keep ratios need 0 < min ≤ mean ≤ max ≤ 1, got min ${min}, mean ${mean}, max ${max}`,
    )
  }
}

function checkBandwidths(clients: readonly ClientBandwidth[]): void {
  if (clients.length === 0) throw new FlOptionError('keep ratios need at least one client')
  const seen = new Set<string>()
  for (const { client, bandwidthBps } of clients) {
    checkBandwidth(client, bandwidthBps)
    if (seen.has(client)) throw new FlOptionError(`client '${client}' is listed twice`)
    seen.add(client)
  }
}

/** A measured bandwidth must be a finite number of bytes per second above 0. */
export function checkBandwidth(client: string, bandwidthBps: number): void {
  if (!(bandwidthBps > 0) || !Number.isFinite(bandwidthBps)) {
    throw new FlOptionError(
      `client '${client}': bandwidthBps must be a finite number > 0 (bytes per second), got ${bandwidthBps}`,
    )
  }
}

function clampRatio(ratio: number, budget: KeepRatioBudget): number {
  return Math.min(budget.max, Math.max(budget.min, ratio))
}

/** The c with mean_k clamp(c·B_k, min, max) = budget.mean. */
function solveScale(bandwidths: readonly number[], budget: KeepRatioBudget): number {
  const breakpoints = bandwidths.flatMap((b) => [budget.min / b, budget.max / b]).sort((x, y) => x - y)
  const meanAt = (scale: number) =>
    bandwidths.reduce((sum, b) => sum + clampRatio(scale * b, budget), 0) / bandwidths.length
  let lower = 0
  for (const upper of breakpoints) {
    if (meanAt(upper) >= budget.mean) return scaleInSegment(bandwidths, budget, (lower + upper) / 2, upper)
    lower = upper
  }
  return breakpoints[breakpoints.length - 1] // budget.mean = max: everyone at max
}

/**
 * Inside one segment the clamped clients are fixed (judged at its midpoint), so the sum is
 * fixed + c·Σ_unclamped B_k and c follows by one division.
 */
function scaleInSegment(
  bandwidths: readonly number[],
  budget: KeepRatioBudget,
  midpoint: number,
  upper: number,
): number {
  let fixed = 0
  let free = 0
  for (const b of bandwidths) {
    const ratio = midpoint * b
    if (ratio <= budget.min) fixed += budget.min
    else if (ratio >= budget.max) fixed += budget.max
    else free += b
  }
  // No unclamped client in this segment: f is flat here, so the budget sits at its upper end.
  if (free === 0) return upper
  return Math.min(upper, (budget.mean * bandwidths.length - fixed) / free)
}
