import type { Topology, TopologyPeer, TopologySite } from './topology.ts'

/** Every namespace, interface and container the testnet makes starts with this, so `down` can find them. */
export const PREFIX = 'atoll'
export const ROUTER_NS = `${PREFIX}-router`
/** Inside a peer's namespace its one interface; inside the router, `atoll-s<i>` bridges and `atoll-s<i>p<j>` ports. */
export const PEER_IF = `${PREFIX}0`
/**
 * 10.77.0.0/16 is only ever used inside the testnet's own namespaces (they have no link to the host's
 * network), one /24 per site: .1 is the router, peers start at .10.
 */
export const SUBNET_BASE = '10.77'
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

export function sitePlan(site: TopologySite, index: number): SitePlan {
  const net = `${SUBNET_BASE}.${index + 1}`
  return { name: site.name, index, subnet: `${net}.0/24`, gateway: `${net}.1`, bridge: `${PREFIX}-s${index}` }
}

function peerPlan(peer: TopologyPeer, site: TopologySite, i: number, j: number): PeerPlan {
  return {
    name: peer.name,
    site: site.name,
    siteIndex: i,
    ns: `${PREFIX}-${peer.name}`,
    address: `${SUBNET_BASE}.${i + 1}.${j + FIRST_PEER_HOST}`,
    port: `${PREFIX}-s${i}p${j}`,
    upMbit: Math.min(site.rateMbit, peer.upMbit ?? Infinity),
    downMbit: Math.min(site.rateMbit, peer.downMbit ?? Infinity),
  }
}

/** Names and addresses for every peer and site; pure, so the backends and the tests agree on them. */
export function planNetwork(topology: Topology): NetPlan {
  const sites = topology.sites.map(sitePlan)
  const peers = topology.sites.flatMap((site, i) => site.peers.map((p, j) => peerPlan(p, site, i, j)))
  return { topology, sites, peers }
}
