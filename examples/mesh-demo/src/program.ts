/**
 * The demo as a program (its flags, usage and run): the example's main.ts and `atoll demo` both run
 * it. The daemons it starts are stopped by pid whatever happens: at the end, on a failure, and on
 * Ctrl-C (after the step in hand; a second Ctrl-C kills them at once).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Program } from '@atoll/flags'
import { bytesText } from '@atoll/sched'
import { PeerProcesses, STOP_TIMEOUT_MS } from '@atoll/testnet'
import { DemoInterruptedError } from './errors.ts'
import { runDemo } from './job.ts'
import { parseOptions, USAGE } from './options.ts'
import { demoView } from './view.ts'

/** Exit status of a run stopped by Ctrl-C, as a shell reports a process ended by SIGINT. */
const INTERRUPTED = 130

const say = (line: string) => console.error(line)

async function demo(argv: string[]): Promise<number> {
  const options = parseOptions(argv)
  const t0 = performance.now()
  const root = mkdtempSync(join(tmpdir(), 'atoll-demo-')) // the peers' and the coordinator's keys
  const processes = new PeerProcesses(join(options.out, 'peers'))
  const stop = new AbortController()
  const interrupt = () => {
    if (!stop.signal.aborted) {
      say('\nstopping after the step in hand, then every peer (Ctrl-C again to kill them now)…')
      stop.abort()
      return
    }
    processes.killAll()
    process.exit(INTERRUPTED)
  }
  process.on('SIGINT', interrupt)
  try {
    const view = demoView({
      steps: options.steps,
      logEvery: options.logEvery,
      tty: process.stderr.isTTY === true,
      write: (text) => process.stderr.write(text),
    })
    const run = await runDemo(options, processes, root, view, say, stop.signal)
    const { summary: s, files } = run
    const moved = Object.entries(s.link_bytes).map(([link, b]) => `${link} ${bytesText(b)}`)
    say(
      `\n${s.steps} steps: training loss ${s.loss_first.toFixed(3)} → ${s.loss_last.toFixed(3)}, ` +
        `held-out ${s.eval.at(-1)?.loss.toFixed(3) ?? '—'}; ${s.measured_step_seconds.toFixed(3)} s a step ` +
        `(the plan predicted ${s.plan.predicted_step_seconds.toFixed(3)})\ncrossed: ${moved.join(', ')}\n` +
        `${files.report}\n${files.summary}\nin ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    )
    return stop.signal.aborted ? INTERRUPTED : 0
  } catch (err) {
    if (err instanceof DemoInterruptedError) {
      say(err.message)
      return INTERRUPTED
    }
    throw err
  } finally {
    process.off('SIGINT', interrupt)
    say(`stopping the peers (pids ${[...processes.pids.values()].join(', ')})…`)
    const killed = await processes.stopAll()
    if (killed.length > 0)
      say(`killed ${killed.join(', ')}: still running ${STOP_TIMEOUT_MS / 1000} s after SIGTERM`)
    rmSync(root, { recursive: true, force: true })
  }
}

/** The demo as a program: main.ts runs it, and `atoll demo` runs it in its own process. */
export const demoProgram: Program = { name: 'atoll demo', usage: USAGE, run: demo }
