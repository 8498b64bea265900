/**
 * The `pipeline` suite's mesh: two sites of two peers (1 Gbit/s inside, 20 Mbit/s and 10 ms one way
 * between), the peers joining interleaved (a1, b1, a2, b2), and the coordinator process that trains
 * the runs over them. On loopback each daemon emulates its links (a token bucket per remote peer);
 * the coordinator is pipeline-runner.ts, started here, and its lines are the runs.
 */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { LinkRate, LoopbackLayout, PeerCommand } from '@atoll/testnet'
import { BenchProcessError } from '../errors.ts'
import { parseRunnerLine, type RunnerOutput, type RunnerSpec } from './pipeline-spec.ts'

export const INSIDE: LinkRate = { mbit: 1000, delayMs: 0 }
export const BETWEEN: LinkRate = { mbit: 20, delayMs: 10 }

export const LAYOUT: LoopbackLayout = {
  sites: [
    { name: 'a', peers: ['a1', 'a2'] },
    { name: 'b', peers: ['b1', 'b2'] },
  ],
  inside: INSIDE,
  between: BETWEEN,
}

/** Interleaved: `even` places stages in this order and so crosses the slow link three times. */
export const JOIN_ORDER = ['a1', 'b1', 'a2', 'b2'] as const

const runner = fileURLToPath(new URL('./pipeline-runner.ts', import.meta.url))

/** How to run a command where the coordinator belongs: here, or inside a peer of a testnet (`exec`). */
export type CommandPlace = (argv: string[]) => PeerCommand

export const here: CommandPlace = (argv) => ({ argv, env: {} })

/**
 * Runs the coordinator (placed by `place`: here, or inside a testnet's peer) over `spec` and returns
 * its runs, one per line it printed; its stderr (the plans, progress) goes to `log`.
 */
export async function runCoordinator(
  place: CommandPlace,
  spec: RunnerSpec,
  log: (line: string) => void,
): Promise<RunnerOutput[]> {
  const specPath = join(spec.out, 'runner.json')
  writeFileSync(specPath, `${JSON.stringify(spec, null, 2)}\n`)
  const { argv, env } = place([process.execPath, runner, specPath])
  const child = spawn(argv[0], argv.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  })
  const lines: string[] = []
  const said: string[] = []
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line)
    log(`${spec.tag}: run ${lines.length} of ${spec.runs.length} done`)
  })
  createInterface({ input: child.stderr }).on('line', (line) => {
    said.push(line)
    log(line)
  })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  if (code !== 0)
    throw new BenchProcessError(
      `the coordinator exited with ${code} after ${lines.length} of ${spec.runs.length} runs:\n${said.slice(-20).join('\n')}`,
    )
  return lines.map(parseRunnerLine)
}
