import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import * as z from 'zod/mini'

/**
 * The per-step JSONL log `{ "step": i, "loss": value }`. On resume it keeps only the lines of steps
 * before the resume point, so a crash-and-resume leaves the same file an uninterrupted run would.
 */
export class StepLog {
  private readonly path: string

  constructor(path: string, resumeAt = 0) {
    this.path = path
    const kept =
      resumeAt > 0 && existsSync(path)
        ? readFileSync(path, 'utf8')
            .split('\n')
            .filter((line) => line.trim() !== '' && stepOf(line) < resumeAt)
        : []
    writeFileSync(path, kept.map((l) => `${l}\n`).join(''))
  }

  write(record: { step: number; loss: number } & Record<string, number>): void {
    appendFileSync(this.path, `${JSON.stringify(record)}\n`)
  }
}

/** How a run's loss moved: the mean over its first and its last `window` steps (halves at most, so a short run compares disjoint windows). */
export function lossTrend(
  losses: readonly number[],
  maxWindow = 20,
): { firstLoss: number; lastLoss: number; window: number } {
  const window = Math.max(1, Math.min(maxWindow, Math.floor(losses.length / 2)))
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  return { firstLoss: mean(losses.slice(0, window)), lastLoss: mean(losses.slice(-window)), window }
}

const stepLine = z.object({ step: z.number() })

/** A line's step; a line that is not a step record (cut short by a crash) sorts last and is dropped. */
function stepOf(line: string): number {
  try {
    const parsed = stepLine.safeParse(JSON.parse(line))
    return parsed.success ? parsed.data.step : Infinity
  } catch {
    return Infinity
  }
}
