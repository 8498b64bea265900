import type { PeerCommand, TestnetBackend, UpOptions } from './backend.ts'
import { trainEnvironment } from './coordinator.ts'
import { startOrder } from './daemons.ts'
import { TestnetAlreadyUpError, TestnetNotUpError, UnknownPeerError } from './errors.ts'
import { dockerBackend } from './docker-backend.ts'
import { namespaceBackend } from './netns-backend.ts'
import { type Backend, clearState, type PeerState, readState, type TestnetState } from './state.ts'
import type { Topology } from './topology.ts'

const backends = new Map<Backend, TestnetBackend>([
  ['netns', namespaceBackend],
  ['docker', dockerBackend],
])

export function backendFor(name: Backend): TestnetBackend {
  const b = backends.get(name)
  if (b === undefined) throw new TestnetNotUpError(`no '${name}' backend`)
  return b
}

/** Brings a testnet up, refusing when one (or the leftovers of a crashed one) is there already. */
export async function upTestnet(
  topology: Topology,
  backend: Backend,
  options: UpOptions = {},
): Promise<TestnetState> {
  const running = readState()
  if (running !== undefined) {
    throw new TestnetAlreadyUpError(
      `testnet '${running.topology.name}' (${running.backend}, ${running.peers.length} peers) is up since ` +
        `${running.startedAt}; run \`atoll testnet down\` first`,
    )
  }
  // a wrong start order is refused before anything is made
  if (options.order !== undefined)
    startOrder(
      topology.sites.flatMap((s) => s.peers),
      options.order,
    )
  const b = backendFor(backend)
  const left = b.leftovers()
  if (left.length > 0) {
    throw new TestnetAlreadyUpError(
      `leftovers of an earlier testnet exist (${left.join(', ')}); run \`atoll testnet down\``,
    )
  }
  try {
    return await b.up(topology, options)
  } catch (err) {
    await b.down()
    clearState(topology.sites.flatMap((s) => s.peers.map((p) => p.name)))
    throw err
  }
}

/**
 * Removes the testnet described by the state file or, when there is none (a crash), whatever any
 * backend (or only the backend `only`) finds by its marks; idempotent.
 */
export async function downTestnet(only?: Backend): Promise<string[]> {
  const state = readState()
  const removed: string[] = []
  for (const [name, b] of backends) {
    if (only !== undefined && name !== only) continue
    if (state === undefined ? b.leftovers().length > 0 : state.backend === name)
      removed.push(...(await b.down()))
  }
  clearState()
  return removed
}

export function requireState(): TestnetState {
  const state = readState()
  if (state === undefined) throw new TestnetNotUpError()
  return state
}

export function findPeer(state: TestnetState, name: string): PeerState {
  const peer = state.peers.find((p) => p.name === name)
  if (peer === undefined)
    throw new UnknownPeerError(
      name,
      state.peers.map((p) => p.name),
    )
  return peer
}

/**
 * What `exec PEER -- CMD…` runs: CMD inside the peer. A CMD that starts with `atoll` runs the CLI the
 * daemons run (this checkout's, or the image's), whatever `atoll` the peer's PATH has or lacks; with
 * daemons up, the environment points `atoll train` at the testnet's coordinator key and at the peer's
 * daemon (coordinator.ts).
 */
export function peerCommand(state: TestnetState, name: string, command: readonly string[]): PeerCommand {
  const peer = findPeer(state, name)
  const backend = backendFor(state.backend)
  const argv = command[0] === 'atoll' ? [...backend.cli, ...command.slice(1)] : [...command]
  const env = state.coordinator === undefined ? {} : trainEnvironment(backend.peerDirs(peer))
  return backend.exec(peer, argv, env)
}
