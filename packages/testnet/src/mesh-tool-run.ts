/**
 * Running `mesh-tool-main.ts` inside a peer (its namespace or container) and reading what it prints,
 * each line parsed with a schema: the measuring node of `status --measure`, the floor holder of a raw
 * TCP measurement, the echo tool of `exchange`.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import * as z from 'zod/mini'
import { MeasureError } from './errors.ts'
import { parseOutput } from './sh.ts'
import type { PeerState, TestnetState } from './state.ts'
import { backendFor } from './testnet.ts'

const mbit = z.number().check(z.nonnegative())
/** What `mesh-tool-main.ts links` prints per link. */
export const linkLine = z.object({
  from: z.string(),
  to: z.string(),
  specMbit: mbit,
  mbit,
  firstMbit: mbit,
  rttMs: z.number().check(z.nonnegative()),
})
/** What `mesh-tool-main.ts echo` prints per echo. */
export const echoLine = z.object({
  target: z.string(),
  bytes: z.int(),
  seconds: z.number().check(z.nonnegative()),
})

/** Collects a child's stderr (its last 4000 characters) and reports its exit, or failure to start. */
function watch(child: ChildProcess): { stderr: () => string; exited: Promise<number | null> } {
  let stderr = ''
  child.stderr?.on('data', (d) => {
    stderr = (stderr + d).slice(-4000)
  })
  // closing the stdin of a child that is gone (or never started) is no failure of ours
  child.stdin?.on('error', () => {})
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', resolve)
  })
  // a failure to start is reported where `exited` is awaited, not as an unhandled rejection before
  exited.catch(() => {})
  return { stderr: () => stderr.trim().slice(-2000), exited }
}

/**
 * Runs a script of this package inside `peer`, handing each stdout line that holds a JSON object to
 * `onLine` as it comes, parsed with `schema`. Its stdin stays open while this waits for it: the script
 * gives the probe floor back when it closes, also when this process dies.
 */
export async function onPeer<T>(
  state: TestnetState,
  peer: PeerState,
  run: { script: string; args: string[]; schema: z.ZodMiniType<T> },
  onLine: (value: T) => void,
): Promise<void> {
  const b = backendFor(state.backend)
  const argv = [...b.shell(peer).prefix, ...b.script(run.script), ...run.args]
  const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] })
  const { stderr, exited } = watch(child)
  let failure: Error | undefined
  try {
    for await (const line of createInterface({ input: child.stdout })) {
      if (!line.startsWith('{') || failure !== undefined) continue
      try {
        onLine(parseOutput([run.script, run.args[0]], line, run.schema))
      } catch (err) {
        failure = err as Error
      }
    }
  } finally {
    child.stdin.end()
  }
  const code = await exited
  if (failure !== undefined) throw failure
  if (code !== 0) throw new MeasureError(`${run.script} on ${peer.name} failed: ${stderr()}`)
}

/**
 * Runs `work` while a measuring node in the first peer holds every daemon's probe floor (when daemons
 * run), so that their background probes do not share the links `work` measures. The node gives the
 * floor back when its stdin closes (also when this process dies), or after `maxSeconds`. `work`'s
 * signal aborts, with the node's error, if the node ends first (it lost the floor, or crashed).
 */
export async function holdingFloor(
  state: TestnetState,
  maxSeconds: number,
  work: (floorLost: AbortSignal) => Promise<void>,
): Promise<void> {
  if (state.peers.some((p) => p.multiaddr === undefined)) return work(new AbortController().signal)
  const b = backendFor(state.backend)
  const request = { daemons: state.peers.map((p) => p.multiaddr!), seconds: Math.ceil(maxSeconds) }
  const argv = [
    ...b.shell(state.peers[0]).prefix,
    ...b.script('mesh-tool-main.ts'),
    'hold',
    JSON.stringify(request),
  ]
  const holder = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] })
  const { stderr, exited } = watch(holder)
  const ended = exited.then(
    (code) =>
      new MeasureError(`the measuring node stopped holding the probe floor (exit ${code}): ${stderr()}`),
    (err: Error) => new MeasureError(`the measuring node could not start: ${err.message}`),
  )
  try {
    const lines = createInterface({ input: holder.stdout })
    const held = await Promise.race([
      (async () => {
        for await (const line of lines) if (line.startsWith('{"held":true')) return true
        return false
      })(),
      ended.then(() => false),
    ])
    if (!held) throw await ended
    const floorLost = new AbortController()
    void ended.then((err) => floorLost.abort(err))
    await work(floorLost.signal)
  } finally {
    holder.stdin.end()
    await ended
  }
}
