/**
 * Run by webrtc-relay.test.ts in a process of its own, which must then exit by itself: the test fails if a
 * native WebRTC object keeps it alive. `node webrtc-child.ts SCENARIO`:
 * - `redial`: dials, once, a peer reachable through a relay whose first handshake fails its certificate
 *   check; prints the connection as one JSON line; stops every node.
 * - `unconnected`: a peer connection as a failed dial leaves it (libp2p's `init` channel created, the offer
 *   made, closed before it connected), made as Atoll's transport makes it.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { createNode } from '../src/node.ts'
import { reserveOn } from '../src/relay.ts'
import { requireBesideWebRtc, TrackedPeerConnection } from '../src/webrtc-native.ts'
import { LOOPBACK_ICE, loopbackRelay, peerFailingHandshakes } from './helpers.ts'

async function redial(): Promise<void> {
  const { relay, address } = await loopbackRelay()
  const hidden = await peerFailingHandshakes(1)
  await reserveOn(hidden.node, address)
  const dialer = await createNode({ listen: ['/ip4/127.0.0.1/tcp/0'], ice: LOOPBACK_ICE })
  await dialer.start()
  const started = performance.now()
  const connection = await dialer.dial(multiaddr(`${address}/p2p-circuit/webrtc/p2p/${hidden.node.peerId}`))
  const ms = Math.round(performance.now() - started)
  const { remoteAddr, limits } = connection
  console.log(
    JSON.stringify({
      remoteAddr: remoteAddr.toString(),
      limited: limits !== undefined,
      handshakes: hidden.handshakes(),
      ms,
    }),
  )
  // the dialer last: with it the last Atoll WebRTC transport of the process stops
  await hidden.node.stop()
  await dialer.stop()
  await relay.stop()
}

async function unconnected(): Promise<void> {
  const { RTCPeerConnection } = requireBesideWebRtc('node-datachannel/polyfill') as typeof globalThis
  const config = { iceServers: [] }
  const peer = new RTCPeerConnection({
    ...config,
    peerConnection: new TrackedPeerConnection(config),
  } as RTCConfiguration)
  peer.createDataChannel('init')
  await peer.setLocalDescription(await peer.createOffer())
  peer.close()
  console.log(JSON.stringify({ state: peer.connectionState }))
}

const scenarios: Record<string, () => Promise<void>> = { redial, unconnected }
const scenario = scenarios[process.argv[2]]
if (scenario === undefined)
  throw new Error(`expected a scenario (${Object.keys(scenarios).join(', ')}), found ${process.argv[2]}`)
await scenario()
