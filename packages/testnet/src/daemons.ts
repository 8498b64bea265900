import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { TestnetError } from './errors.ts'
import type { PeerState } from './state.ts'

/** A daemon that has not printed its address by then did not start (its log says why); generous, as
 * daemons calibrate their device at start and several start at once on two cores. */
const START_TIMEOUT_MS = 90_000
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

/** The TCP port every peer's daemon listens on (each peer has its own address, so one port serves). */
export const PEER_PORT = 4001

/**
 * `atoll peer` for one peer: listening on its testnet address only, named after it, bootstrapped from
 * the first peer; `dataDir` keeps each peer's identity apart where they share a file system.
 */
export function peerDaemonArgv(
  cli: string[],
  peer: PeerState,
  bootstrap: string | undefined,
  options: { dataDir?: string; extra?: string[] } = {},
): string[] {
  return [
    ...cli,
    'peer',
    '--listen',
    `/ip4/${peer.address}/tcp/${PEER_PORT}`,
    '--name',
    peer.name,
    ...(options.dataDir === undefined ? [] : ['--data-dir', options.dataDir]),
    ...(bootstrap === undefined ? [] : ['--bootstrap', bootstrap]),
    ...(options.extra ?? []),
  ]
}

/** What the daemon starter needs from a backend. */
export interface DaemonHooks {
  /** Runs `argv` inside the peer, detached; records a pid on the peer where there is one. */
  launch(peer: PeerState, argv: string[]): void
  isAlive(peer: PeerState): boolean
  readLog(peer: PeerState): string
  /** The `atoll peer` argv for a peer, given the first peer's address (undefined for the first). */
  argv(peer: PeerState, bootstrap: string | undefined): string[]
}

/** Waits until the daemon's log shows its multiaddr (the one with the peer's own address). */
export async function waitForMultiaddr(peer: PeerState, hooks: DaemonHooks): Promise<string> {
  const deadline = Date.now() + START_TIMEOUT_MS
  while (Date.now() < deadline) {
    for (const m of hooks.readLog(peer).matchAll(new RegExp(MULTIADDR, 'g'))) {
      if (m[0].startsWith(`/ip4/${peer.address}/`)) return m[0]
    }
    if (!hooks.isAlive(peer)) break
    await sleep(100)
  }
  const tail = hooks.readLog(peer).split('\n').slice(-15).join('\n')
  throw new TestnetError(`the peer daemon on ${peer.name} did not report its address; its log ends:\n${tail}`)
}

export function readLogFile(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

/**
 * Starts the daemons: the first peer, then (once it reports its address) every other peer bootstrapped
 * from it, all at once. Given `order` (every peer's name once, checked by startOrder), one at a time in
 * that order instead, each once the one before has reported its address, so that they join the mesh
 * in that order; the first of `order` is the one the others bootstrap from.
 */
export async function startDaemons(
  peers: PeerState[],
  hooks: DaemonHooks,
  order?: readonly string[],
): Promise<void> {
  const inOrder = order === undefined ? peers : startOrder(peers, order)
  const [first, ...rest] = inOrder
  hooks.launch(first, hooks.argv(first, undefined))
  first.multiaddr = await waitForMultiaddr(first, hooks)
  for (const peer of rest) {
    hooks.launch(peer, hooks.argv(peer, first.multiaddr))
    if (order !== undefined) peer.multiaddr = await waitForMultiaddr(peer, hooks)
  }
  for (const peer of rest) peer.multiaddr ??= await waitForMultiaddr(peer, hooks)
}

/** `peers` in `order`, which must name each of them exactly once (else a TestnetError saying how not). */
export function startOrder<T extends { name: string }>(peers: readonly T[], order: readonly string[]): T[] {
  const names = peers.map((p) => p.name)
  const unknown = order.filter((name) => !names.includes(name))
  const missing = names.filter((name) => !order.includes(name))
  if (unknown.length > 0 || missing.length > 0 || new Set(order).size !== order.length)
    throw new TestnetError(
      `the start order must name every peer of the topology once (${names.join(', ')}), got ` +
        `${order.join(', ') || 'none'}${unknown.length > 0 ? `: no peer ${unknown.join(', ')}` : ''}` +
        `${missing.length > 0 ? `; missing ${missing.join(', ')}` : ''}`,
    )
  return order.map((name) => peers.find((p) => p.name === name)!)
}
