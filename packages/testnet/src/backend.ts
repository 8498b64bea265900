import type { PeerShell } from './measure.ts'
import type { PeerState, TestnetState } from './state.ts'
import type { Topology } from './topology.ts'

export interface UpOptions {
  /** Starts `atoll peer` on every peer, the first one first; the others bootstrap from it. */
  startPeers?: boolean
  /** Progress messages for the user. */
  log?: (message: string) => void
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
  /** argv that prints the peer's log. */
  logCommand(peer: PeerState): string[]
  /** The argv that runs a script of this package inside a peer (node and the script's path there). */
  script(name: string): string[]
}
