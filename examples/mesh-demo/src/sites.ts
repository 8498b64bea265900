/**
 * The demo's mesh: two sites of two peers, fast inside a site and slow between them, as two labs
 * joined by a thin wide-area link. Each link is emulated by the daemons themselves (`atoll peer
 * --emulate-link PEER=RATE,DELAYms`: a token bucket and a one-way delay on what they send that peer).
 */

export interface Site {
  name: string
  peers: string[]
}

export const SITES: readonly Site[] = [
  { name: 'a', peers: ['a1', 'a2'] },
  { name: 'b', peers: ['b1', 'b2'] },
]

/** Interleaved, so that the planner cannot find the sites from the order in which peers joined. */
export const START_ORDER = ['a1', 'b1', 'a2', 'b2'] as const

export interface LinkRate {
  mbit: number
  /** one-way delay added by the sender */
  delayMs: number
}

/** A LAN inside a site; between sites, a wide-area link a hundred kilometres long. */
export const INSIDE: LinkRate = { mbit: 1000, delayMs: 0 }
export const BETWEEN: LinkRate = { mbit: 20, delayMs: 10 }

export function siteOf(peer: string): Site {
  const site = SITES.find((s) => s.peers.includes(peer))
  if (site === undefined) throw new RangeError(`${peer} is in none of the demo's sites`)
  return site
}

/** The `--emulate-link` values of `peer`: one per other peer, by its id (`ids`: name → peer id). */
export function emulatedLinks(peer: string, ids: ReadonlyMap<string, string>): string[] {
  return [...ids]
    .filter(([name]) => name !== peer)
    .map(([name, id]) => {
      const rate = siteOf(name) === siteOf(peer) ? INSIDE : BETWEEN
      return `${id}=${rate.mbit}mbit,${rate.delayMs}ms`
    })
}
