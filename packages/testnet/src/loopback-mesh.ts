/**
 * A loopback mesh of sites: peers fast inside a site and slow between sites, as labs joined by a thin
 * wide-area link, each link emulated by the daemons (loopback.ts). The peers start in a given order,
 * the first alone and the others bootstrapped from it, and a mesh is ready once the first daemon knows
 * every other with its capability report and addresses (what a coordinator learns the membership from).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { type AtollMesh, multiaddr } from '@atoll/net'
import { peersMethod } from '@atoll/peer'
import { PeerProcessError } from './errors.ts'
import { makeIdentities, type PeerProcesses, type RunningPeer } from './loopback.ts'

export interface LoopbackSite {
  name: string
  peers: string[]
}

export interface LinkRate {
  mbit: number
  /** one-way delay added by the sender */
  delayMs: number
}

/** Sites and the two link rates: every pair of peers of a site, every pair across sites. */
export interface LoopbackLayout {
  sites: LoopbackSite[]
  inside: LinkRate
  between: LinkRate
}

export interface LoopbackStart {
  layout: LoopbackLayout
  /** every peer of the layout once: the order the daemons start (and join) in */
  order: readonly string[]
  /** where the peers' keys go (a folder per peer) */
  root: string
  /** `atoll peer` flags for every daemon (e.g. `--allow ID`, `--device cpu`) */
  flags: readonly string[]
  /** told of each daemon once it is up */
  started?(peer: RunningPeer): void
  signal?: AbortSignal
}

export function siteOf(layout: LoopbackLayout, peer: string): LoopbackSite {
  const site = layout.sites.find((s) => s.peers.includes(peer))
  if (site === undefined) throw new RangeError(`${peer} is in none of the sites`)
  return site
}

/** The `--emulate-link` values of `peer`: one per other peer, by its id (`ids`: name → peer id). */
export function emulatedLinks(
  layout: LoopbackLayout,
  peer: string,
  ids: ReadonlyMap<string, string>,
): string[] {
  return [...ids]
    .filter(([name]) => name !== peer)
    .map(([name, id]) => {
      const rate = siteOf(layout, name) === siteOf(layout, peer) ? layout.inside : layout.between
      return `${id}=${rate.mbit}mbit,${rate.delayMs}ms`
    })
}

/**
 * Starts the daemons in `order` on 127.0.0.1 (random ports), the first alone and the others
 * bootstrapped from it, each shaping its links to the others; `processes` holds them (the caller
 * stops them, whatever happens). An abort between two starts throws the signal's reason.
 */
export async function startLoopbackMesh(
  processes: PeerProcesses,
  start: LoopbackStart,
): Promise<RunningPeer[]> {
  const identities = await makeIdentities(start.root, start.order)
  const ids = new Map([...identities].map(([name, id]) => [name, id.peerId]))
  const started: RunningPeer[] = []
  for (const name of start.order) {
    start.signal?.throwIfAborted()
    const args = [
      ...['--listen', '/ip4/127.0.0.1/tcp/0', ...start.flags],
      ...emulatedLinks(start.layout, name, ids).flatMap((spec) => ['--emulate-link', spec]),
      ...(started.length > 0 ? ['--bootstrap', started[0].addresses[0]] : []),
    ]
    const peer = await processes.start(identities.get(name)!, args)
    started.push(peer)
    start.started?.(peer)
  }
  return started
}

/**
 * Waits until `first`, the daemon a coordinator learns the membership from, knows every one of
 * `others`: connected, with its capability report and addresses (a peer that has only just joined
 * has neither yet). An abort throws the signal's reason.
 */
export async function waitForMembers(
  mesh: AtollMesh,
  first: RunningPeer,
  others: readonly RunningPeer[],
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<void> {
  const until = performance.now() + options.timeoutMs
  for (;;) {
    options.signal?.throwIfAborted()
    const known = await mesh.ctrl.call(
      first.addresses.map((a) => multiaddr(a)),
      peersMethod,
      {},
    )
    const missing = others.filter((o) => {
      const p = known.peers.find((x) => x.peerId === o.peerId)
      return !(p?.connected && p.device !== undefined && p.addresses.length > 0)
    })
    if (missing.length === 0) return
    if (performance.now() > until)
      throw new PeerProcessError(
        `${first.name} did not learn ${missing.map((p) => p.name).join(', ')} within ${options.timeoutMs / 1000} s (see ${first.log})`,
      )
    await sleep(250)
  }
}
