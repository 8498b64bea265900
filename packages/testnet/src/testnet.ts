import type { TestnetBackend, UpOptions } from './backend.ts'
import { TestnetAlreadyUpError, TestnetNotUpError, UnknownPeerError } from './errors.ts'
import { measurementPairs } from './links.ts'
import { measureTcp } from './measure.ts'
import { namespaceBackend } from './netns-backend.ts'
import { planNetwork } from './plan.ts'
import { type Backend, clearState, type PeerState, readState, type TestnetState } from './state.ts'
import type { Topology } from './topology.ts'

const backends = new Map<Backend, TestnetBackend>([['netns', namespaceBackend]])

/** Registers a backend (the Docker one lives in its own module and registers itself when imported). */
export function registerBackend(name: Backend, backend: TestnetBackend): void {
  backends.set(name, backend)
}

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
    clearState()
    throw err
  }
}

/**
 * Removes the testnet described by the state file or, when there is none (a crash), whatever any
 * backend finds by prefix; idempotent.
 */
export async function downTestnet(): Promise<string[]> {
  const state = readState()
  const removed: string[] = []
  for (const [name, b] of backends) {
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

/** One measured link, in the shape `status --measure --json` writes. */
export interface MeasuredLink {
  from: string
  to: string
  spec_mbit: number
  measured_mbit: number
}

/**
 * Measures every pair that `measurementPairs` picks, one at a time (measurements at once would share
 * the two CPU cores and the router, and each would see less than its link gives).
 */
export async function measureLinks(
  state: TestnetState,
  options: { seconds?: number; onLink?: (l: MeasuredLink) => void } = {},
): Promise<MeasuredLink[]> {
  const b = backendFor(state.backend)
  const out: MeasuredLink[] = []
  for (const spec of measurementPairs(planNetwork(state.topology))) {
    const from = findPeer(state, spec.from)
    const to = findPeer(state, spec.to)
    const r = await measureTcp(b.shell(from), b.shell(to), to.address, options.seconds ?? 1.5)
    const link = {
      from: spec.from,
      to: spec.to,
      spec_mbit: spec.specMbit,
      measured_mbit: Math.round(r.mbit * 10) / 10,
    }
    options.onLink?.(link)
    out.push(link)
  }
  return out
}
