import type { TestnetBackend, UpOptions } from './backend.ts'
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
