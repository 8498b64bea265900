import type { NetPlan, PeerPlan } from './plan.ts'
import { pairKey, type SiteLink, type Topology } from './topology.ts'

/** A directed pair of peers whose path is shaped, with the rate the shaping should give it. */
export interface LinkSpec {
  from: string
  to: string
  specMbit: number
  /** One-way latency that @atoll/net adds in userspace (0 inside a site). */
  latencyMs: number
}

export function siteLink(topology: Topology, siteA: string, siteB: string): SiteLink | undefined {
  return topology.links.find((l) => pairKey(l.sites[0], l.sites[1]) === pairKey(siteA, siteB))
}

/** The rate a single flow from `from` to `to` should get: the slowest hop on its path. */
export function linkSpec(plan: NetPlan, from: PeerPlan, to: PeerPlan): LinkSpec {
  let spec = Math.min(from.upMbit, to.downMbit)
  let latencyMs = 0
  if (from.site !== to.site) {
    const link = siteLink(plan.topology, from.site, to.site)!
    spec = Math.min(spec, link.rateMbit)
    latencyMs = link.latencyMs ?? 0
  }
  return { from: from.name, to: to.name, specMbit: spec, latencyMs }
}

/**
 * The pairs `status --measure` measures, chosen so that every shaped hop is the bottleneck of some
 * pair: inside each site a ring over its peers (both ways when it has two), so each peer's upload
 * and download are crossed once; between sites the first peers of each ordered pair of sites.
 */
export function measurementPairs(plan: NetPlan): LinkSpec[] {
  const out: LinkSpec[] = []
  for (const site of plan.sites) {
    const peers = plan.peers.filter((p) => p.siteIndex === site.index)
    if (peers.length === 2) {
      out.push(linkSpec(plan, peers[0], peers[1]), linkSpec(plan, peers[1], peers[0]))
    } else if (peers.length > 2) {
      peers.forEach((p, k) => {
        out.push(linkSpec(plan, p, peers[(k + 1) % peers.length]))
      })
    }
  }
  for (const a of plan.sites) {
    for (const b of plan.sites) {
      if (a.index === b.index) continue
      const from = plan.peers.find((p) => p.siteIndex === a.index)!
      const to = plan.peers.find((p) => p.siteIndex === b.index)!
      out.push(linkSpec(plan, from, to))
    }
  }
  return out
}

/** A reading under this share of its spec is measured again (see `bestReading`). */
export const SHORT_READING = 0.9

/**
 * Measures a link, and again up to `retries` times while the reading is more than 10% under its spec,
 * and keeps the highest: the shaping is a ceiling, and what can pull a reading down on a shared
 * machine (another process taking the CPU mid-transfer) never pushes one up.
 */
export async function bestReading(
  specMbit: number,
  retries: number,
  measure: () => Promise<number>,
): Promise<number> {
  let best = await measure()
  for (let k = 0; k < retries && best < specMbit * SHORT_READING; k++) best = Math.max(best, await measure())
  return best
}
