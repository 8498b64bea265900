/** How a run's loss moved: the mean over its first and its last `window` steps (halves at most, so a short run compares disjoint windows). */
export function lossTrend(
  losses: readonly number[],
  maxWindow = 20,
): { firstLoss: number; lastLoss: number; window: number } {
  const window = Math.max(1, Math.min(maxWindow, Math.floor(losses.length / 2)))
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  return { firstLoss: mean(losses.slice(0, window)), lastLoss: mean(losses.slice(-window)), window }
}
