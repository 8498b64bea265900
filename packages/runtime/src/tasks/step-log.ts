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
