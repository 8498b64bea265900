/** Peer meshes and GPT-2 op costs for the `sched` suite. */
import { gpt2, seededRandom } from '@atoll/core'
import { type LinkProfile, type OpCost, opCostsOfGraph, type PeerProfile } from '@atoll/sched'

const GBIT = 1e9 / 8
const MBIT = 1e6 / 8

/**
 * GPT-2 124M op costs from core's zoo model and shape inference, for a micro-batch of `batch`
 * sequences of 1024 tokens.
 */
export function gpt2Small(batch: number): OpCost[] {
  return opCostsOfGraph(gpt2({ config: '124M', shapesOnly: true }).graph, { batch })
}

/** Fisher–Yates with a fixed seed: the join order is reproducible. */
function shuffled<T>(items: T[], seed: number): T[] {
  const next = seededRandom(seed)
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

export interface Mesh {
  peers: PeerProfile[]
  links: LinkProfile[]
}

/**
 * Like testnet/geo3-large.yaml: sites us, eu, asia with 4 peers each; 10 Gbit/s and 0.5 ms inside a
 * site, 100 Mbit/s between sites with that file's latencies (40, 80, 90 ms). Peers are listed in
 * join order, which interleaves the sites (shuffled with a fixed seed), as a real mesh would.
 */
export function geo3Large(flops: number, memoryBytes: number): Mesh {
  const sites = ['us', 'eu', 'asia']
  const latency: Record<string, number> = { 'us-eu': 0.04, 'eu-asia': 0.08, 'us-asia': 0.09 }
  const all = sites.flatMap((s) => [1, 2, 3, 4].map((i) => ({ id: `${s}${i}`, site: s })))
  const order = shuffled(all, 3)
  const peers = order.map(({ id }) => ({ id, device: 'cpu', flops, memoryBytes }))
  const links: LinkProfile[] = []
  for (let i = 0; i < order.length; i++) {
    for (let j = i + 1; j < order.length; j++) {
      const [a, b] = [order[i], order[j]]
      const same = a.site === b.site
      const rtt = same ? 0.0005 : 2 * (latency[`${a.site}-${b.site}`] ?? latency[`${b.site}-${a.site}`])
      links.push({ a: a.id, b: b.id, bandwidthBps: same ? 10 * GBIT : 100 * MBIT, rttSeconds: rtt })
    }
  }
  return { peers, links }
}

/**
 * `n` peers in `sites` sites, full mesh: 10 Gbit/s inside a site, 20–200 Mbit/s between two sites
 * (drawn per site pair), peers of three speeds, in a shuffled join order.
 */
export function manySites(peerCount: number, sites: number): Mesh {
  const siteOf = shuffled(
    Array.from({ length: peerCount }, (_, i) => i % sites),
    7,
  )
  const between = new Float64Array(sites * sites)
  const pairs = shuffled(
    Array.from({ length: sites * sites }, (_, i) => i),
    11,
  )
  pairs.forEach((p, rank) => {
    between[p] = (20 + (180 * rank) / pairs.length) * MBIT
  })
  const peers = siteOf.map((_, i) => ({
    id: `p${i}`,
    device: 'cpu',
    flops: 1e12 * (1 + (i % 3)),
    memoryBytes: 32e9,
  }))
  const links: LinkProfile[] = []
  for (let i = 0; i < peerCount; i++) {
    for (let j = i + 1; j < peerCount; j++) {
      const [a, b] = [siteOf[i], siteOf[j]]
      const bw = a === b ? 10 * GBIT : between[Math.min(a, b) * sites + Math.max(a, b)]
      links.push({ a: peers[i].id, b: peers[j].id, bandwidthBps: bw, rttSeconds: a === b ? 0.0005 : 0.08 })
    }
  }
  return { peers, links }
}
