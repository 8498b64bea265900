/**
 * @atoll/net for browsers: the same protocols and mesh as the Node entry, with the browser node factory
 * (WebSockets, WebRTC, circuit relay) and without the Node-only parts (the identity file, the TCP node).
 *
 * @example
 * ```ts
 * import { AtollMesh, createBrowserNode } from '@atoll/net'
 * const mesh = new AtollMesh(await createBrowserNode({ bootstrap: ['/dns4/coordinator.example/tcp/443/wss/p2p/12D3…'] }))
 * await mesh.start()
 * ```
 */
export type { IncomingTensor, PayloadAllocator, TensorFailure } from './assembly.ts'
export { createBrowserNode, type BrowserNodeOptions } from './browser.ts'
export * from './constants.ts'
export { type CtrlHandler, type CtrlInit, type CtrlMethod, CtrlRpc, ctrlMethod } from './ctrl.ts'
export * from './errors.ts'
export { EmulatedLink, type LinkShape, LinkTable, TokenBucket } from './link.ts'
export { AtollMesh, type MeshInit } from './mesh.ts'
export { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
/** a peer id from its text (`12D3KooW…`, `Qm…` or a CID); throws on anything else */
export { peerIdFromString } from '@libp2p/peer-id'
export { LinkProbe, type ProbeInit, type ProbeResult, probeLimitMs } from './probe.ts'
export { reserveOn, webRtcThrough } from './relay.ts'
export { iceServerList } from './ice.ts'
export { floorMethod, MAX_RUN_SECONDS, ProbeFloor, probeRunMethod } from './probe-floor.ts'
export type { FloorHold } from './probe-hold.ts'
export type { NetObserver, PeerTarget, ProtocolContext, ProtocolHost } from './protocol.ts'
export { stripeCount, stripeRange } from './stripe.ts'
export { type SendOptions, type TensorGate, type TensorInit, TensorTransport } from './tensor.ts'
