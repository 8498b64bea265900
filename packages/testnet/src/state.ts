import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseJson, parseWith } from '@atoll/core'
import * as z from 'zod/mini'
import { StateFileError, TopologyError } from './errors.ts'
import { parseTopology, type Topology, topologyDocument } from './topology.ts'

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

const text = z.string().check(z.maxLength(4096))

/** What `writeState` writes; the topology is in its file form and is checked as a topology file is. */
const stateFile = z.object({
  backend: z.enum(['netns', 'docker']),
  topology: z.unknown(),
  startedAt: text,
  peers: z.array(
    z.object({
      name: text,
      site: text,
      ns: text,
      address: text,
      // `down` signals this pid: 0 and -1 would reach whole process groups, 1 is init
      pid: z.optional(z.int().check(z.gte(2))),
      peerId: z.optional(text),
      multiaddr: z.optional(text),
      log: text,
    }),
  ),
})

export function logPath(peer: string): string {
  return join(stateDir(), `${peer}.log`)
}

/**
 * The running testnet, or undefined when there is no state file. A file that is not JSON or not a
 * testnet's state is a StateFileError naming the file and the field; it is left as it is.
 */
export function readState(): TestnetState | undefined {
  const path = statePath()
  if (!existsSync(path)) return undefined
  const raw = parseJson(readFileSync(path, 'utf8'), path, StateFileError)
  const state = parseWith(stateFile, raw, (problem) => new StateFileError(`${path}: ${problem.message}`))
  try {
    return { ...state, topology: parseTopology(state.topology) }
  } catch (err) {
    if (!(err instanceof TopologyError)) throw err
    throw new StateFileError(`${path}: topology${err.path === '' ? '' : `.${err.path}`}: ${err.detail}`)
  }
}

export function writeState(state: TestnetState): void {
  mkdirSync(stateDir(), { recursive: true })
  const file = { ...state, topology: topologyDocument(state.topology) }
  writeFileSync(statePath(), `${JSON.stringify(file, null, 2)}\n`)
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
