/**
 * The libp2p node for browsers: WebSockets, WebRTC and circuit relay v2 (to reach Node peers and each
 * other through a relay), Noise, yamux, identify, ping. No `node:*` imports on this path.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { ping } from '@libp2p/ping'
import { webRTC } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { createLibp2p } from 'libp2p'
import { CONNECTION_MONITOR } from './constants.ts'

export interface BrowserNodeOptions {
  privateKey?: PrivateKey
  /** Peers to join through (WebSockets multiaddrs ending in `/p2p/<id>`). */
  bootstrap?: string[]
  /**
   * STUN (or TURN) server URLs WebRTC finds its public address with (default: libp2p's public STUN
   * list); `[]` for none, as on a LAN or loopback
   */
  iceServers?: string[]
}

export async function createBrowserNode(options: BrowserNodeOptions = {}): Promise<Libp2p> {
  return createLibp2p({
    start: false, // AtollMesh.start registers the protocols, then starts the node
    privateKey: options.privateKey,
    // '/p2p-circuit' takes a reservation on a relay; '/webrtc' accepts direct connections signalled over it
    addresses: { listen: ['/p2p-circuit', '/webrtc'] },
    transports: [webSockets(), webRTC(rtcOptions(options.iceServers)), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionMonitor: CONNECTION_MONITOR,
    connectionGater: { denyDialMultiaddr: () => false },
    peerDiscovery: options.bootstrap?.length ? [bootstrap({ list: options.bootstrap })] : [],
    services: { identify: identify(), ping: ping() },
  })
}

function rtcOptions(iceServers: string[] | undefined) {
  return iceServers === undefined
    ? {}
    : { rtcConfiguration: { iceServers: iceServers.map((urls) => ({ urls })) } }
}
