/**
 * The demo's mesh: two sites of two peers, fast inside a site and slow between them, as two labs
 * joined by a thin wide-area link. Each link is emulated by the daemons themselves (`atoll peer
 * --emulate-link PEER=RATE,DELAYms`: a token bucket and a one-way delay on what they send that peer),
 * started by @atoll/testnet's loopback mesh.
 */
import { type LinkRate, type LoopbackLayout, type LoopbackSite, siteOf as siteIn } from '@atoll/testnet'

export const SITES: readonly LoopbackSite[] = [
  { name: 'a', peers: ['a1', 'a2'] },
  { name: 'b', peers: ['b1', 'b2'] },
]

/** Interleaved, so that the planner cannot find the sites from the order in which peers joined. */
export const START_ORDER = ['a1', 'b1', 'a2', 'b2'] as const

/** A LAN inside a site; between sites, a wide-area link a hundred kilometres long. */
export const INSIDE: LinkRate = { mbit: 1000, delayMs: 0 }
export const BETWEEN: LinkRate = { mbit: 20, delayMs: 10 }

export const LAYOUT: LoopbackLayout = {
  sites: SITES.map((s) => ({ name: s.name, peers: [...s.peers] })),
  inside: INSIDE,
  between: BETWEEN,
}

export function siteOf(peer: string): LoopbackSite {
  return siteIn(LAYOUT, peer)
}
