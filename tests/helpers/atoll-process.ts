/**
 * `atoll` as a long-running process whose stdout and stderr lines are kept, so that a test can wait
 * for a line; every process started here is killed by its pid when the test file is done.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { after } from 'node:test'
import { atollMain } from './peer-process.ts'

/** An `atoll` process whose stdout and stderr lines are kept, so a test can wait on one. */
export class AtollProcess {
  readonly lines: string[] = []
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
  readonly #waiters: { test: RegExp; resolve: (match: RegExpMatchArray) => void }[] = []

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [atollMain, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    for (const stream of [this.child.stdout, this.child.stderr])
      createInterface({ input: stream! }).on('line', (line) => this.#line(line))
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)))
    running.add(this)
    this.exited.then(() => running.delete(this))
  }

  /** The first line (seen or to come) that matches `pattern`. */
  waitFor(pattern: RegExp, timeoutMs = 120_000): Promise<RegExpMatchArray> {
    for (const line of this.lines) {
      const match = line.match(pattern)
      if (match !== null) return Promise.resolve(match)
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no line ${pattern} in:\n${this.lines.join('\n')}`)),
        timeoutMs,
      )
      this.#waiters.push({
        test: pattern,
        resolve: (m) => {
          clearTimeout(timer)
          resolve(m)
        },
      })
    })
  }

  /** Waits for the exit; fails with the output when the code is not 0. */
  async success(): Promise<void> {
    const code = await this.exited
    assert.equal(code, 0, this.lines.join('\n'))
  }

  #line(line: string): void {
    this.lines.push(line)
    for (const w of [...this.#waiters]) {
      const match = line.match(w.test)
      if (match !== null) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1)
        w.resolve(match)
      }
    }
  }
}

const running = new Set<AtollProcess>()
after(() => {
  for (const p of running) if (p.child.pid !== undefined) process.kill(p.child.pid, 'SIGKILL')
})
