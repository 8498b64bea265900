import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import type { PeerCommand } from './backend.ts'
import { TestnetError } from './errors.ts'
import type { PeerState } from './state.ts'

/** A daemon that has not printed its address by then did not start (its log says why). */
const START_TIMEOUT_MS = 30_000
/** `atoll peer` prints the addresses it listens on; this finds the first full multiaddr among them. */
const MULTIADDR = /\/ip4\/\d+\.\d+\.\d+\.\d+\/tcp\/\d+\/p2p\/[1-9A-HJ-NP-Za-km-z]+/

/**
 * Starts `argv` detached, output appended to `log`, and returns its pid. Detached so that the CLI
 * invocation that ran `up` can exit while the daemons run on; `down` ends them by namespace.
 */
export function startDetached(argv: string[], log: string, env: NodeJS.ProcessEnv): number {
  const fd = openSync(log, 'a')
  try {
    const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', fd, fd], env })
    child.unref()
    if (child.pid === undefined) throw new TestnetError(`could not start ${argv.join(' ')}`)
    return child.pid
  } finally {
    closeSync(fd)
  }
}

/** Waits until the daemon's log shows its multiaddr (containing the peer's own address). */
export async function waitForMultiaddr(peer: PeerState, isAlive: () => boolean): Promise<string> {
  const deadline = Date.now() + START_TIMEOUT_MS
  while (Date.now() < deadline) {
    const text = readLog(peer.log)
    for (const m of text.matchAll(new RegExp(MULTIADDR, 'g'))) {
      if (m[0].startsWith(`/ip4/${peer.address}/`)) return m[0]
    }
    if (!isAlive()) break
    await sleep(100)
  }
  const tail = readLog(peer.log).split('\n').slice(-15).join('\n')
  throw new TestnetError(`the peer daemon on ${peer.name} did not report its address; its log ends:\n${tail}`)
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

/**
 * Starts the daemons: the first peer, then (once it reports its address) every other peer
 * bootstrapped from it. `launch` runs the argv inside the peer and returns the pid.
 */
export async function startDaemons(
  peers: PeerState[],
  command: PeerCommand,
  launch: (peer: PeerState, argv: string[]) => number,
  isAlive: (peer: PeerState) => boolean,
): Promise<void> {
  const [first, ...rest] = peers
  first.pid = launch(first, command(first, undefined))
  first.multiaddr = await waitForMultiaddr(first, () => isAlive(first))
  for (const peer of rest) peer.pid = launch(peer, command(peer, first.multiaddr))
  for (const peer of rest) peer.multiaddr = await waitForMultiaddr(peer, () => isAlive(peer))
}
