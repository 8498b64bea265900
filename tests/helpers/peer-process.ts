/**
 * A peer daemon (`atoll peer`) in its own Node process for multi-process tests: started on loopback
 * with a fresh data directory, its JSON log lines collected so tests can wait on them.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const atollMain = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url))

export type LogLine = Record<string, unknown> & { msg?: string }

export class PeerProcess {
  readonly logs: LogLine[] = []
  readonly stderr: string[] = []
  readonly child: ChildProcess
  readonly dataDir: string
  peerId = ''
  addresses: string[] = []
  private readonly waiters: { test: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = []
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>

  private constructor(args: string[], dataDir: string) {
    this.dataDir = dataDir
    this.child = spawn(
      process.execPath,
      [
        atollMain,
        'peer',
        '--data-dir',
        dataDir,
        '--listen',
        '/ip4/127.0.0.1/tcp/0',
        '--device',
        'cpu',
        ...args,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.onLine(line))
    createInterface({ input: this.child.stderr! }).on('line', (line) => this.stderr.push(line))
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })))
  }

  /**
   * Starts a daemon (in a fresh data directory unless given one) and waits until it logs 'peer
   * started'. When it does not start, it is killed and the fresh directory removed before the error.
   */
  static async start(args: string[] = [], dataDir?: string): Promise<PeerProcess> {
    const p = new PeerProcess(args, dataDir ?? mkdtempSync(join(tmpdir(), 'atoll-peer-')))
    try {
      const started = await Promise.race([
        p.waitForLog((l) => l.msg === 'peer started', 60_000),
        p.exited.then(({ code }) => {
          throw new Error(`peer exited with ${code} before starting:\n${p.stderr.join('\n')}`)
        }),
      ])
      p.peerId = String(started.peerId)
      p.addresses = started.addresses as string[]
      return p
    } catch (err) {
      await p.stop('SIGKILL')
      if (dataDir === undefined) rmSync(p.dataDir, { recursive: true, force: true })
      throw err
    }
  }

  /** The first log line (already seen or still to come) that passes `test`. */
  waitForLog(test: (l: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const seen = this.logs.find(test)
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching log line within ${timeoutMs} ms`)),
        timeoutMs,
      )
      this.waiters.push({
        test,
        resolve: (l) => {
          clearTimeout(timer)
          resolve(l)
        },
      })
    })
  }

  /** Sends `signal` and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM') {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal)
    return this.exited
  }

  private onLine(line: string): void {
    let parsed: LogLine
    try {
      parsed = JSON.parse(line)
    } catch {
      return
    }
    this.logs.push(parsed)
    for (const w of [...this.waiters]) {
      if (w.test(parsed)) {
        this.waiters.splice(this.waiters.indexOf(w), 1)
        w.resolve(parsed)
      }
    }
  }
}
