/**
 * @atoll/net: the libp2p mesh and Atoll's protocols. `/atoll/tensor/1` moves tensor messages (the wire
 * format of `@atoll/compress`) in ≤ 1 MiB frames with back-pressure, striped over several streams when
 * large, each admitted or refused at its header by the receiver's gate; `/atoll/probe/1` measures RTT
 * and bandwidth in about a second (ten round trips at least on a long link), and no two probes overlap
 * among nodes that take the probe floor and ask each other or a common peer (probe-floor.ts says what
 * is and is not covered); `/atoll/ctrl/1` is a schema-checked
 * request/response RPC. Emulated links shape traffic per remote peer without root.
 * Model-agnostic: it moves bytes with headers, never looks inside them.
 *
 * @example
 * ```ts
 * import { AtollMesh, createNode, loadIdentity } from '@atoll/net'
 * const mesh = new AtollMesh(await createNode({ privateKey: await loadIdentity('.atoll-peer') }))
 * await mesh.start()
 * mesh.tensors.onMessage(({ from, header, payload }) => console.log(from, header.edge, payload.byteLength))
 * // refused at the header, before any payload is allocated; the sender's send() rejects with the reason
 * mesh.tensors.setGate((header) => (header.job === 'j' ? undefined : `job '${header.job}' is not run here`))
 * const other = new AtollMesh(await createNode())
 * await other.start()
 * other.links.set(mesh.peerId, { rateBytesPerSecond: 12_500_000, delayMs: 20 }) // 100 Mbit/s, 20 ms
 * const data = new Float32Array(1024)
 * await other.tensors.send(mesh.node.getMultiaddrs(),
 *   { job: 'j', step: 0, mb: 0, edge: 'h.0->h.1', dtype: 'float32', shape: [1024], codec: 'raw', codecMeta: {} },
 *   new Uint8Array(data.buffer))
 * console.log(await other.probe.probe(mesh.node.peerId)) // { rttMs, bytesPerSecond, measuredAt, … }
 * ```
 */
export type { IncomingTensor, PayloadAllocator, TensorFailure } from './assembly.ts'
export * from './constants.ts'
export { type CtrlHandler, type CtrlInit, type CtrlMethod, CtrlRpc, ctrlMethod } from './ctrl.ts'
export * from './errors.ts'
export { FrameReader, FrameWriter } from './frames.ts'
export { IDENTITY_FILE, loadIdentity, peerIdOfKey } from './identity.ts'
export { EmulatedLink, type LinkShape, LinkTable, TokenBucket } from './link.ts'
export { AtollMesh, type MeshInit } from './mesh.ts'
/** a peer id from its text (`12D3KooW…`, `Qm…` or a CID); throws on anything else */
export { peerIdFromString } from '@libp2p/peer-id'
/** the browser's node (WebSockets, WebRTC, relay; no listener of its own): also runs in Node, as a browser's stand-in */
export { type BrowserNodeOptions, createBrowserNode } from './browser.ts'
export { createNode, listenAddresses, type NodeOptions } from './node.ts'
export type { IceOptions } from './webrtc.ts'
export { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
export type { Libp2p, PeerId, Stream } from '@libp2p/interface'
export { LinkProbe, type ProbeInit, type ProbeResult, probeLimitMs } from './probe.ts'
export { reserveOn, webRtcThrough } from './relay.ts'
export { iceServerList } from './ice.ts'
export { floorMethod, MAX_RUN_SECONDS, ProbeFloor, probeRunMethod } from './probe-floor.ts'
export type { FloorHold } from './probe-hold.ts'
export type { NetObserver, PeerTarget, ProtocolContext, ProtocolHost } from './protocol.ts'
export { stripeCount, stripeRange } from './stripe.ts'
export { type SendOptions, type TensorGate, type TensorInit, TensorTransport } from './tensor.ts'
