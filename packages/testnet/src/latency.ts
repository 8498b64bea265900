import { siteLink } from './links.ts'
import type { PeerState } from './state.ts'
import type { Topology } from './topology.ts'

/**
 * The kernel here has no netem, so a site link's latency is added by the daemons themselves:
 * `atoll peer --emulate-link PEER=RATE,DELAYms` delays what it sends to PEER (@atoll/net's userspace
 * delay line). Its rate part is set far above any link, so that the kernel's htb stays the only
 * rate limit and the daemon adds the delay alone.
 */
const UNLIMITED = '100gbit'

/**
 * Creates (or loads) each peer's identity in its data directory before the daemons start, so that
 * every daemon can be told the peer ids of the others, which `--emulate-link` is keyed by.
 */
export async function assignPeerIds(peers: PeerState[], dataDir: (peer: PeerState) => string): Promise<void> {
  // imported here: libp2p would slow down every other command of the CLI
  const { loadIdentity, peerIdOfKey } = await import('@atoll/net')
  for (const peer of peers) peer.peerId = peerIdOfKey(await loadIdentity(dataDir(peer)))
}

/** `--emulate-link` flags for `peer`: the one-way latency to every peer of another site whose link has one. */
export function latencyFlags(topology: Topology, peer: PeerState, all: PeerState[]): string[] {
  return all.flatMap((other) => {
    if (other.site === peer.site || other.peerId === undefined) return []
    const ms = siteLink(topology, peer.site, other.site)?.latencyMs ?? 0
    return ms > 0 ? ['--emulate-link', `${other.peerId}=${UNLIMITED},${ms}ms`] : []
  })
}
