/**
 * The loopback testnet, for no root: `atoll peer` processes on 127.0.0.1, each shaping what it sends
 * every other peer itself (`--emulate-link PEER=RATE,DELAYms`: a token bucket and a one-way delay per
 * remote peer, so, unlike the namespace testnet's site classes, two peers of a site do not share an
 * uplink). Each daemon has an identity made beforehand (so that every daemon can be told the others'
 * ids for its emulated links), its log in LOGS/NAME.log, and its own process group, so that a Ctrl-C in
 * the terminal reaches the caller only and the caller stops each daemon itself, by pid.
 * `atoll demo` and `atoll bench pipeline` start their meshes with it.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { loadIdentity, peerIdOfKey } from '@atoll/net'
import { readDaemonState } from '@atoll/peer'
import { PeerProcessError } from './errors.ts'
import { cliMain } from './netns-backend.ts'

/** A daemon has this long to calibrate, listen and write its state file. */
const START_TIMEOUT_MS = 60_000
/** SIGTERM lets a daemon drain and remove its state file; past this, SIGKILL. */
export const STOP_TIMEOUT_MS = 15_000
const POLL_MS = 100

export interface PeerIdentity {
  name: string
  dataDir: string
  peerId: string
}

export interface RunningPeer extends PeerIdentity {
  pid: number
  addresses: string[]
  log: string
}

/** Makes (or loads) the key of each name under `root`: the peer ids are known before any peer runs. */
export async function makeIdentities(
  root: string,
  names: readonly string[],
): Promise<Map<string, PeerIdentity>> {
  const made = new Map<string, PeerIdentity>()
  for (const name of names) {
    const dataDir = join(root, name)
    made.set(name, { name, dataDir, peerId: peerIdOfKey(await loadIdentity(dataDir)) })
  }
  return made
}

/** `atoll peer` daemons started on this machine, each stopped by its pid. */
export class PeerProcesses {
  readonly #children = new Map<string, { child: ChildProcess; exited: Promise<void> }>()
  readonly #logDir: string

  constructor(logDir: string) {
    this.#logDir = logDir
    mkdirSync(logDir, { recursive: true })
  }

  /** The pids of the daemons started so far, by name. */
  get pids(): Map<string, number> {
    return new Map([...this.#children].map(([name, c]) => [name, c.child.pid ?? 0]))
  }

  /** Starts `atoll peer` as `identity` with `args` and resolves once its state file says it is up. */
  async start(identity: PeerIdentity, args: readonly string[]): Promise<RunningPeer> {
    const log = join(this.#logDir, `${identity.name}.log`)
    const fd = openSync(log, 'w')
    const child = spawn(
      process.execPath,
      [cliMain, 'peer', '--data-dir', identity.dataDir, '--name', identity.name, ...args],
      { stdio: ['ignore', fd, fd], detached: true },
    )
    closeSync(fd)
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.once('error', () => {}) // a spawn failure also ends in 'exit' or leaves no pid: both handled below
    this.#children.set(identity.name, { child, exited })
    if (child.pid === undefined) throw new PeerProcessError(`could not start ${identity.name}: no process`)
    const until = performance.now() + START_TIMEOUT_MS
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new PeerProcessError(`${identity.name} exited before it was up:\n${tail(log)}`)
      const state = stateOf(identity.dataDir)
      if (state?.pid === child.pid) return { ...identity, pid: child.pid, addresses: state.listen, log }
      if (performance.now() > until)
        throw new PeerProcessError(
          `${identity.name} was not up after ${START_TIMEOUT_MS / 1000} s:\n${tail(log)}`,
        )
      await sleep(POLL_MS)
    }
  }

  /**
   * Stops every daemon started: SIGTERM by pid, then SIGKILL for any still running after the grace.
   * Resolves with the names of those that had to be killed.
   */
  async stopAll(): Promise<string[]> {
    const running = [...this.#children].filter(([, { child }]) => isRunning(child))
    for (const [, { child }] of running) signal(child, 'SIGTERM')
    const grace = new AbortController() // a pending sleep would keep this process alive for the whole grace
    const waited = sleep(STOP_TIMEOUT_MS, undefined, { signal: grace.signal }).catch(() => {})
    await Promise.race([Promise.all(running.map(([, c]) => c.exited)), waited])
    grace.abort()
    const killed = running.filter(([, { child }]) => isRunning(child))
    for (const [, { child }] of killed) signal(child, 'SIGKILL')
    await Promise.all(running.map(([, c]) => c.exited))
    return killed.map(([name]) => name)
  }

  /** SIGKILL to every daemon still running, at once (a second Ctrl-C). */
  killAll(): void {
    for (const { child } of this.#children.values()) if (isRunning(child)) signal(child, 'SIGKILL')
  }
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null
}

function signal(child: ChildProcess, name: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(child.pid, name)
  } catch {
    // gone meanwhile: nothing to stop
  }
}

/** The daemon's state file, or undefined while it has not written one (or is writing it). */
function stateOf(dataDir: string) {
  try {
    return readDaemonState(dataDir)
  } catch {
    return undefined
  }
}

/** The last lines of a daemon's log, for an error message. */
function tail(log: string, lines = 15): string {
  try {
    return readFileSync(log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}
