import { createHash } from 'node:crypto'
import type { HeaderFields } from '@atoll/compress'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { webRTC } from '@libp2p/webrtc'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { AtollMesh, type IncomingTensor, type MeshInit } from '../src/index.ts'
import { createNode } from '../src/node.ts'
import { type NativeConfig, type NativePeerConnection, requireBesideWebRtc } from '../src/webrtc-native.ts'

/** A mesh on loopback, without WebRTC (nothing here needs it, and it starts faster). */
export async function loopbackMesh(init: MeshInit = {}): Promise<AtollMesh> {
  const mesh = new AtollMesh(await createNode({ listen: ['/ip4/127.0.0.1/tcp/0'], webrtc: false }), init)
  await mesh.start()
  return mesh
}

/** The header of a raw one-dimensional tensor of `length` elements. */
export function fields(edge: string, length: number, dtype: 'uint8' | 'float32' = 'uint8'): HeaderFields {
  return { job: 'test', step: 0, mb: 0, edge, dtype, shape: [length], codec: 'raw', codecMeta: {} }
}

/** The next tensor message on `edge` that `mesh` receives. */
export function nextMessage(mesh: AtollMesh, edge: string): Promise<IncomingTensor> {
  return new Promise((resolve) => {
    const off = mesh.tensors.onMessage((m) => {
      if (m.header.edge === edge) {
        off()
        resolve(m)
      }
    })
  })
}

/** Bytes that differ at every position (a dropped or shifted frame changes the hash). */
export function pattern(bytes: number, seed = 1): Uint8Array {
  const out = new Uint8Array(bytes)
  let x = seed >>> 0 || 1
  for (let i = 0; i < bytes; i += 4) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x
    out[i + 1] = x >>> 8
    out[i + 2] = x >>> 16
    out[i + 3] = x >>> 24
  }
  return out
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** No STUN server (nothing outside can be reached) and candidates on loopback only. */
export const LOOPBACK_ICE = { servers: [], bindAddress: '127.0.0.1' }

/** A circuit relay v2 server on loopback, started, and its address. */
export async function loopbackRelay(): Promise<{ relay: Libp2p; address: Multiaddr }> {
  const relay = await createNode({ listen: ['/ip4/127.0.0.1/tcp/0'], relay: true, webrtc: false })
  await relay.start()
  return { relay, address: relay.getMultiaddrs()[0] }
}

type NativePeerConnectionClass = new (name: string, config: NativeConfig) => NativePeerConnection

/**
 * A started node, reachable only through a relay, whose first `failures` WebRTC handshakes fail their DTLS
 * certificate check, as libdatachannel's race makes one fail (see src/webrtc.ts): it takes the fingerprint
 * of those offers' certificate for another. Plain libp2p, so none of Atoll's transport helps it.
 * `handshakes()` counts the offers it was given.
 */
export async function peerFailingHandshakes(
  failures: number,
): Promise<{ node: Libp2p; handshakes(): number }> {
  const { PeerConnection } = requireBesideWebRtc('node-datachannel') as {
    PeerConnection: NativePeerConnectionClass
  }
  let offers = 0
  class FailingPeerConnection extends PeerConnection {
    override setRemoteDescription(sdp: string, type: string): void {
      offers++
      super.setRemoteDescription(offers <= failures ? otherFingerprint(sdp) : sdp, type)
    }
  }
  const rtcConfiguration = () => ({
    iceServers: [],
    peerConnection: new FailingPeerConnection(`failing-${offers + 1}`, {
      iceServers: [],
      bindAddress: '127.0.0.1',
    }),
  })
  const node = await createLibp2p({
    addresses: { listen: ['/p2p-circuit'] },
    transports: [tcp(), circuitRelayTransport(), webRTC({ rtcConfiguration })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() },
  })
  return { node, handshakes: () => offers }
}

/** `sdp` with the first byte of its certificate fingerprint changed. */
function otherFingerprint(sdp: string): string {
  const changed = sdp.replace(
    /(a=fingerprint:sha-256 )([0-9A-F]{2})/,
    (_, prefix: string, byte: string) => `${prefix}${byte === '00' ? '01' : '00'}`,
  )
  if (changed === sdp) throw new Error(`expected an a=fingerprint:sha-256 line in the offer, found:\n${sdp}`)
  return changed
}
