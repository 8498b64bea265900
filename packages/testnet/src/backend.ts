import type { PeerShell } from './measure.ts'
import type { PeerState, TestnetState } from './state.ts'
import type { Topology } from './topology.ts'

/** How to start the peer daemon on a peer: the argv (run inside the peer) given the bootstrap address. */
export type PeerCommand = (peer: PeerState, bootstrap: string | undefined) => string[]

export interface UpOptions {
  /** Starts `atoll peer` on every peer, the first one first; the others bootstrap from it. */
  peerCommand?: PeerCommand
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
}
