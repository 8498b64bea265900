import type { Topology, TopologyPeer, TopologySite } from './topology.ts'

/** Every namespace, interface and container the testnet makes starts with this, so `down` can find them. */
export const PREFIX = 'atoll'
export const ROUTER_NS = `${PREFIX}-router`
/** Inside a peer's namespace its one interface; inside the router, `atoll-s<i>` bridges and `atoll-s<i>p<j>` ports. */
export const PEER_IF = `${PREFIX}0`
/** How a backend numbers its sites and routers. Peers start at host .10 of their site's /24. */
export interface Addressing {
  /** The first two octets; site i gets `<base>.<i+1>.0/24`. */
  base: string
  /** The router's host number in each site's /24. */
  routerHost: number
}

/**
 * 10.77.0.0/16 is only ever used inside the testnet's own namespaces (they have no link to the host's
 * network); the router is .1 of each site.
 */
export const NETNS_ADDRESSING: Addressing = { base: '10.77', routerHost: 1 }
/** Docker keeps .1 of each network for the host's bridge, so the router container is .2. */
export const DOCKER_ADDRESSING: Addressing = { base: '10.78', routerHost: 2 }
const FIRST_PEER_HOST = 10

/** Where one peer lives: its namespace, address, and the router-side port that leads to it. */
export interface PeerPlan {
  name: string
  site: string
  siteIndex: number
  ns: string
  address: string
  /** The peer's veth end in its namespace (always PEER_IF); the other end is `port` in the router. */
  port: string
  /** Egress rate of the peer's NIC: min(site rate, access upload). */
  upMbit: number
  /** Rate towards the peer: min(site rate, access download). */
  downMbit: number
}

export interface SitePlan {
  name: string
  index: number
  subnet: string
  gateway: string
  bridge: string
}

export interface NetPlan {
  topology: Topology
  sites: SitePlan[]
  peers: PeerPlan[]
}

function sitePlan(site: TopologySite, index: number, a: Addressing): SitePlan {
  const net = `${a.base}.${index + 1}`
  return {
    name: site.name,
    index,
    subnet: `${net}.0/24`,
    gateway: `${net}.${a.routerHost}`,
    bridge: `${PREFIX}-s${index}`,
  }
}

function peerPlan(peer: TopologyPeer, site: TopologySite, i: number, j: number, a: Addressing): PeerPlan {
  return {
    name: peer.name,
    site: site.name,
    siteIndex: i,
    ns: `${PREFIX}-${peer.name}`,
    address: `${a.base}.${i + 1}.${j + FIRST_PEER_HOST}`,
    port: `${PREFIX}-s${i}p${j}`,
    upMbit: Math.min(site.rateMbit, peer.upMbit ?? Infinity),
    downMbit: Math.min(site.rateMbit, peer.downMbit ?? Infinity),
  }
}

/** Names and addresses for every peer and site; pure, so the backends and the tests agree on them. */
export function planNetwork(topology: Topology, addressing = NETNS_ADDRESSING): NetPlan {
  const sites = topology.sites.map((s, i) => sitePlan(s, i, addressing))
  const peers = topology.sites.flatMap((site, i) =>
    site.peers.map((p, j) => peerPlan(p, site, i, j, addressing)),
  )
  return { topology, sites, peers }
}
