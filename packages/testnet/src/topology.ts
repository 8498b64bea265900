import { parseWith } from '@atoll/core'
import * as z from 'zod/mini'
import { TopologyError } from './errors.ts'

/** One machine of the testnet: it gets its own network namespace (or container) named `atoll-<name>`. */
export interface TopologyPeer {
  name: string
  /** Upload rate of the peer's access link in Mbit/s; undefined = only the site's rate applies. */
  upMbit?: number
  /** Download rate of the peer's access link in Mbit/s; undefined = only the site's rate applies. */
  downMbit?: number
}

/** A group of peers on one fast network (a lab, a data centre, a city). */
export interface TopologySite {
  name: string
  /** Rate of each peer's link inside the site, in Mbit/s. */
  rateMbit: number
  peers: TopologyPeer[]
}

/** The wide-area link between two sites; the rate applies in each direction separately. */
export interface SiteLink {
  sites: [string, string]
  rateMbit: number
  /** One-way latency in ms. The kernel here has no netem, so it is added in userspace by @atoll/net. */
  latencyMs?: number
}

export interface Topology {
  name: string
  sites: TopologySite[]
  links: SiteLink[]
}

/**
 * A peer's, site's or topology's name. Peer names become namespace, container, host and file names
 * (`rm -r` of the state directory's `<peer>`), site names network names: short, lower case, DNS-safe,
 * never a path or an option.
 */
export const NAME = /^[a-z][a-z0-9-]{0,14}$/
/** Bounded by what 2 cores can drive and by the /24 per site that the address plan uses. */
export const MAX_PEERS = 64
export const MAX_RATE_MBIT = 100_000
const MAX_LATENCY_MS = 10_000
/**
 * Reserved: the inter-site router namespace is `atoll-router`; a peer's data directory is named after
 * it in the state directory, beside the coordinator's key and the shared folder (state.ts).
 */
const RESERVED = new Set(['router', 'coordinator', 'shared'])

/** A name following NAME; the state file's peers are checked with it too. */
export const testnetName = z.string().check(z.regex(NAME))
const rate = z
  .number({ error: `a rate in Mbit/s in (0, ${MAX_RATE_MBIT}]` })
  .check(z.gt(0), z.lte(MAX_RATE_MBIT))

/** The file form: snake_case keys, and strict, so that a misspelt key is an error, not a default. */
const topologyFile = z.strictObject({
  name: z.optional(testnetName),
  sites: z
    .array(
      z.strictObject({
        name: testnetName,
        rate_mbit: rate,
        peers: z
          .array(
            z.union([
              testnetName,
              z.strictObject({
                name: testnetName,
                access_mbit: z.optional(rate),
                up_mbit: z.optional(rate),
                down_mbit: z.optional(rate),
              }),
            ]),
          )
          .check(z.minLength(1)),
      }),
    )
    .check(z.minLength(1)),
  links: z.optional(
    z.array(
      z.strictObject({
        sites: z.array(testnetName).check(z.length(2)),
        rate_mbit: rate,
        latency_ms: z.optional(
          z
            .number({ error: `a number of ms in [0, ${MAX_LATENCY_MS}]` })
            .check(z.gte(0), z.lte(MAX_LATENCY_MS)),
        ),
      }),
    ),
  ),
})

type TopologyFile = z.infer<typeof topologyFile>

/**
 * Validates a parsed topology document (from YAML or JSON) and returns the typed topology. Every
 * mistake is a TopologyError whose path names the bad field; unknown keys are errors too, so a typo
 * never silently falls back to a default.
 */
export function parseTopology(doc: unknown, fallbackName = 'topology'): Topology {
  const file = parseWith(
    topologyFile,
    doc,
    (problem) => new TopologyError(problem.path, `expected ${problem.expected}, found ${problem.found}`),
  )
  const sites = file.sites.map(toSite)
  const links = (file.links ?? []).map(
    (l): SiteLink => ({
      sites: [l.sites[0], l.sites[1]],
      rateMbit: l.rate_mbit,
      ...(l.latency_ms === undefined ? {} : { latencyMs: l.latency_ms }),
    }),
  )
  checkNames(sites)
  checkLinks(sites, links)
  return { name: file.name ?? fallbackName, sites, links }
}

function toSite(site: TopologyFile['sites'][number]): TopologySite {
  const peers = site.peers.map((p): TopologyPeer => {
    if (typeof p === 'string') return { name: p }
    const up = p.up_mbit ?? p.access_mbit
    const down = p.down_mbit ?? p.access_mbit
    return {
      name: p.name,
      ...(up === undefined ? {} : { upMbit: up }),
      ...(down === undefined ? {} : { downMbit: down }),
    }
  })
  return { name: site.name, rateMbit: site.rate_mbit, peers }
}

function checkNames(sites: TopologySite[]): void {
  const siteSeen = new Set<string>()
  const peerSeen = new Set<string>()
  let total = 0
  sites.forEach((site, i) => {
    if (siteSeen.has(site.name))
      throw new TopologyError(`sites[${i}].name`, `duplicate site name '${site.name}'`)
    siteSeen.add(site.name)
    site.peers.forEach((peer, j) => {
      const path = `sites[${i}].peers[${j}].name`
      if (RESERVED.has(peer.name)) throw new TopologyError(path, `'${peer.name}' is reserved`)
      if (peerSeen.has(peer.name)) throw new TopologyError(path, `duplicate peer name '${peer.name}'`)
      peerSeen.add(peer.name)
      total++
    })
  })
  if (total > MAX_PEERS) throw new TopologyError('sites', `at most ${MAX_PEERS} peers in all, got ${total}`)
}

/** Every pair of sites needs exactly one link, so no inter-site rate is left to chance. */
function checkLinks(sites: TopologySite[], links: SiteLink[]): void {
  const names = new Set(sites.map((s) => s.name))
  const seen = new Set<string>()
  links.forEach((link, i) => {
    link.sites.forEach((s, k) => {
      if (!names.has(s)) throw new TopologyError(`links[${i}].sites[${k}]`, `no site named '${s}'`)
    })
    if (link.sites[0] === link.sites[1]) {
      throw new TopologyError(
        `links[${i}].sites`,
        `a link joins two different sites, got '${link.sites[0]}' twice`,
      )
    }
    const key = pairKey(link.sites[0], link.sites[1])
    if (seen.has(key))
      throw new TopologyError(`links[${i}].sites`, `a second link between ${link.sites.join(' and ')}`)
    seen.add(key)
  })
  for (let a = 0; a < sites.length; a++) {
    for (let b = a + 1; b < sites.length; b++) {
      if (!seen.has(pairKey(sites[a].name, sites[b].name))) {
        throw new TopologyError('links', `no link between sites '${sites[a].name}' and '${sites[b].name}'`)
      }
    }
  }
}

export function pairKey(first: string, second: string): string {
  return first < second ? `${first}|${second}` : `${second}|${first}`
}

/** The file form of a topology (what `parseTopology` reads), e.g. to hand it to a container. */
export function topologyDocument(topology: Topology): Record<string, unknown> {
  return {
    name: topology.name,
    sites: topology.sites.map((s) => ({
      name: s.name,
      rate_mbit: s.rateMbit,
      peers: s.peers.map((p) => ({
        name: p.name,
        ...(p.upMbit === undefined ? {} : { up_mbit: p.upMbit }),
        ...(p.downMbit === undefined ? {} : { down_mbit: p.downMbit }),
      })),
    })),
    links: topology.links.map((l) => ({
      sites: l.sites,
      rate_mbit: l.rateMbit,
      ...(l.latencyMs === undefined ? {} : { latency_ms: l.latencyMs }),
    })),
  }
}

/**
 * The topology with `n` peers in every site (`atoll testnet up --peers N`): the first n of a site's
 * peers are kept, and missing ones are added as `<site><k>`. Validated again, so a generated name
 * that clashes with an existing one is a TopologyError like any other.
 */
export function withPeersPerSite(topology: Topology, count: number): Topology {
  if (!Number.isInteger(count) || count < 1)
    throw new TopologyError('peers', `expected a whole number ≥ 1, got ${count}`)
  const doc = topologyDocument(topology) as { sites: { name: string; peers: unknown[] }[] }
  for (const site of doc.sites) {
    site.peers = Array.from({ length: count }, (_, k) => site.peers[k] ?? { name: `${site.name}${k + 1}` })
  }
  return parseTopology(doc, topology.name)
}
