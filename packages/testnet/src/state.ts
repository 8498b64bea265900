import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Topology } from './topology.ts'

/**
 * Where the running testnet is described. /run is a tmpfs, so the state goes away at reboot exactly
 * like the namespaces it describes. ATOLL_TESTNET_DIR moves it (tests use their own).
 */
export function stateDir(): string {
  return process.env.ATOLL_TESTNET_DIR ?? '/run/atoll-testnet'
}

export type Backend = 'netns' | 'docker'

export interface PeerState {
  name: string
  site: string
  /** Namespace (netns backend) or container name (docker backend). */
  ns: string
  address: string
  /** The `atoll peer` process (netns backend), when one was started. */
  pid?: number
  /** The daemon's peer id, fixed before it starts (its identity is created first). */
  peerId?: string
  /** The peer's libp2p multiaddr, once known. */
  multiaddr?: string
  log: string
}

export interface TestnetState {
  backend: Backend
  topology: Topology
  startedAt: string
  peers: PeerState[]
}

const statePath = () => join(stateDir(), 'state.json')

export function logPath(peer: string): string {
  return join(stateDir(), `${peer}.log`)
}

export function readState(): TestnetState | undefined {
  if (!existsSync(statePath())) return undefined
  return JSON.parse(readFileSync(statePath(), 'utf8')) as TestnetState
}

export function writeState(state: TestnetState): void {
  mkdirSync(stateDir(), { recursive: true })
  writeFileSync(statePath(), `${JSON.stringify(state, null, 2)}\n`)
}

/**
 * Removes the state file and what the testnet kept for `peers` (logs, daemon data directories), and
 * the state directory once empty. Only what it made: ATOLL_TESTNET_DIR may point somewhere shared.
 */
export function clearState(peers: string[] = readState()?.peers.map((p) => p.name) ?? []): void {
  const dir = stateDir()
  for (const peer of peers) {
    rmSync(logPath(peer), { force: true })
    rmSync(join(dir, peer), { recursive: true, force: true })
  }
  rmSync(statePath(), { force: true })
  try {
    rmdirSync(dir)
  } catch {
    // not empty (someone else's files) or already gone
  }
}
