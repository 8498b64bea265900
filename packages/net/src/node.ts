/**
 * The libp2p node for Node.js: TCP, WebSockets and WebRTC transports (plus circuit relay v2 as a client,
 * and as a server when `relay` is set), Noise, yamux, identify, ping, a bootstrap list and optionally
 * mDNS. Atoll's protocols are registered on it by `AtollNet`.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { gossipsub } from '@libp2p/gossipsub'
import { identify, identifyPush } from '@libp2p/identify'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { mdns } from '@libp2p/mdns'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { createLibp2p, type Libp2pInit, type ServiceFactoryMap } from 'libp2p'
import { CONNECTION_MONITOR } from './constants.ts'
import { type IceOptions, webRtcTransport } from './webrtc.ts'

export interface NodeOptions {
  /** The peer's key (see `loadIdentity`); a fresh one when absent. */
  privateKey?: PrivateKey
  /** Listen multiaddrs (default `/ip4/0.0.0.0/tcp/0`). Add `/p2p-circuit` to take relay reservations. */
  listen?: string[]
  /** Addresses to advertise instead of the listen addresses (behind NAT or port forwarding). */
  announce?: string[]
  /** Peers to join through, as multiaddrs ending in `/p2p/<id>`. */
  bootstrap?: string[]
  /** Serve circuit relay v2 for others (default false). */
  relay?: boolean
  /** Find peers on the LAN by mDNS (default false: on a shared machine it would join unrelated meshes). */
  mdns?: boolean
  /**
   * Accept and dial WebRTC connections (browser peers, and peers behind NAT, signalled through a relay;
   * default true). A handshake that fails is tried again (see webrtc.ts).
   */
  webrtc?: boolean
  /** How WebRTC finds a path (ICE); see `IceOptions`. */
  ice?: IceOptions
  /** Run gossipsub as the `pubsub` service, for whoever needs topics (default false: nothing in the mesh does yet). */
  pubsub?: boolean
}

/**
 * Yamux flow control. The default window starts at 256 KiB and grows only when window updates come back
 * within a few RTTs, which a busy CPU prevents; and every tensor part is a fresh stream, so it would
 * start small every time. Measured here on loopback with the bench's workers: a fresh stream starting at
 * 16 MiB moved a 128 MiB tensor at 0.8-1.3x a long-lived bare stream, against 0.6-0.7x when starting at
 * 4 MiB. 16 MiB also covers 1 Gbit/s at ~130 ms RTT. Frames arriving before a handler listens are
 * buffered, so the read buffer must hold a full window; receivers consume eagerly, so it stays empty.
 */
const YAMUX_STREAM_OPTIONS = {
  initialStreamWindowSize: 16 << 20,
  maxStreamWindowSize: 16 << 20,
  maxReadBufferLength: 32 << 20,
}

interface ListeningService {
  addrs(): Multiaddr[]
}

/**
 * Where the node listens, with the ports the OS picked and `/p2p/<id>` appended. `getMultiaddrs()`
 * gives the announced addresses instead when `announce` is set, which a local client may not reach.
 */
export function listenAddresses(node: Libp2p): Multiaddr[] {
  const service = (node.services as Record<string, unknown>).listening as ListeningService | undefined
  if (service === undefined) return node.getMultiaddrs()
  return service.addrs().map((a) => a.encapsulate(`/p2p/${node.peerId.toString()}`))
}

/** Creates the node, not yet started (`AtollMesh.start` or `node.start()` starts it). */
export async function createNode(options: NodeOptions = {}): Promise<Libp2p> {
  const peerDiscovery: Libp2pInit['peerDiscovery'] & {} = []
  if (options.bootstrap !== undefined && options.bootstrap.length > 0) {
    peerDiscovery.push(bootstrap({ list: options.bootstrap, timeout: 0 }))
  }
  if (options.mdns === true) peerDiscovery.push(mdns())
  const services: ServiceFactoryMap = {
    identify: identify(),
    identifyPush: identifyPush(),
    ping: ping(),
    listening: (components: { transportManager: { getAddrs(): Multiaddr[] } }): ListeningService => ({
      addrs: () => components.transportManager.getAddrs(),
    }),
  }
  if (options.relay === true) services.relay = circuitRelayServer()
  if (options.pubsub === true) services.pubsub = gossipsub()
  return createLibp2p({
    // not started here: AtollMesh.start registers the protocols first, so the first identify exchange
    // with a bootstrap peer already announces them
    start: false,
    privateKey: options.privateKey,
    addresses: {
      listen: options.listen ?? ['/ip4/0.0.0.0/tcp/0'],
      announce: options.announce,
    },
    transports: [
      tcp(),
      webSockets(),
      circuitRelayTransport(),
      ...(options.webrtc === false ? [] : [webRtcTransport(options.ice)]),
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ streamOptions: YAMUX_STREAM_OPTIONS })],
    connectionMonitor: CONNECTION_MONITOR,
    peerDiscovery,
    services,
  })
}
