import type { PeerDirs } from './coordinator.ts'
import type { PeerShell } from './measure.ts'
import type { PeerState, TestnetState } from './state.ts'
import type { Topology } from './topology.ts'

export interface UpOptions {
  /** Starts `atoll peer` on every peer, the first one first; the others bootstrap from it. */
  startPeers?: boolean
  /**
   * The peers' names in the order their daemons start and join, one at a time (e.g. interleaved across
   * sites, as a benchmark of placement wants); default: the first peer, then every other at once.
   */
  order?: readonly string[]
  /** Coordinators besides the testnet's own whose stages the daemons take (peer ids). */
  allow?: readonly string[]
  /** More `atoll peer` flags for every daemon (a benchmark's `--threads`). */
  daemonFlags?: readonly string[]
  /** Progress messages for the user. */
  log?: (message: string) => void
}

/** A command to run inside a peer: the argv to run here, and what to add to the environment it gets. */
export interface PeerCommand {
  argv: string[]
  env: Record<string, string>
}

/** Where a testnet lives: network namespaces on this host, or Docker containers. */
export interface TestnetBackend {
  up(topology: Topology, options: UpOptions): Promise<TestnetState>
  /** Removes everything the backend made, found by name prefix; returns what it removed. */
  down(): Promise<string[]>
  /** What of this backend is there now (namespaces or containers), running or left over. */
  leftovers(): string[]
  /** The argv prefix that runs a command inside `peer`, and the TCP tool as seen from there. */
  shell(peer: PeerState): PeerShell
  /** `command` inside `peer`, with `env` in its environment. */
  exec(peer: PeerState, command: string[], env: Record<string, string>): PeerCommand
  /** argv that prints the peer's log. */
  logCommand(peer: PeerState): string[]
  /** The argv that runs a script of this package inside a peer (node and the script's path there). */
  script(name: string): string[]
  /** The argv of the atoll CLI inside a peer: the one its daemon runs. */
  cli: string[]
  /** The coordinator's key and the peer's daemon data directory, as paths inside `peer`. */
  peerDirs(peer: PeerState): PeerDirs
}
