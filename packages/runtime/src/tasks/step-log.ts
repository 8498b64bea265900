import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'

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

function stepOf(line: string): number {
  try {
    const step = (JSON.parse(line) as { step?: unknown }).step
    return typeof step === 'number' ? step : Infinity
  } catch {
    return Infinity
  }
}
