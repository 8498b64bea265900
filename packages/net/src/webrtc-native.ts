/**
 * node-datachannel's native peer connections, as the Node node's WebRTC transport makes them, and the
 * native objects they leave. node-datachannel keeps the process alive while any data channel it wraps has
 * not been reported closed by libdatachannel, and releases the channel only then (or in its global
 * `cleanup()`). libdatachannel does not report it in three cases seen here:
 * - a channel that never opened, when its peer connection is closed: libp2p's `init` channel of every
 *   dial that fails (libp2p closes the peer connection, not the channel);
 * - a channel still open when its peer connection is closed (a stream cut by a node stopping);
 * - now and then (1 in 8 runs of 8 dials here), the `init` channel that the answering side closes while
 *   the dialling side closes it too.
 * The first happens once per failed dial, so a peer connection closes such channels itself. The other
 * two are left to `releaseNative`, which the transport calls when the last node using it stops.
 */
import { createRequire } from 'node:module'

/** What of node-datachannel's native peer connection is used here. */
export interface NativePeerConnection {
  createDataChannel(label: string, init?: object): NativeChannel
  onStateChange(callback: (state: string) => void): void
  setRemoteDescription(sdp: string, type: string): void
  state(): string
  close(): void
}

interface NativeChannel {
  close(): void
}

/** node-datachannel's configuration of a native peer connection (its `RtcConfig`, the part used here). */
export interface NativeConfig {
  iceServers: string[]
  bindAddress?: string
  iceTransportPolicy?: RTCIceTransportPolicy
}

interface NodeDatachannel {
  PeerConnection: new (name: string, config: NativeConfig) => NativePeerConnection
  cleanup(): void
}

/**
 * `require` as from @libp2p/webrtc, for the node-datachannel it loads: one native module for both (Atoll
 * does not depend on node-datachannel itself).
 */
export const requireBesideWebRtc = createRequire(createRequire(import.meta.url).resolve('@libp2p/webrtc'))

const nodeDatachannel = requireBesideWebRtc('node-datachannel') as NodeDatachannel

/** Counts peer connections, to name them in libdatachannel's log. */
let created = 0

/** A native peer connection that reports its failure, and closes with itself the channels it never opened. */
export class TrackedPeerConnection extends nodeDatachannel.PeerConnection {
  readonly #onFailed: (() => void) | undefined
  /** Channels created before the connection connected (libp2p's `init` channel); libp2p closes the rest. */
  readonly #early = new Set<NativeChannel>()

  /** `config` is the one node-datachannel's RTCPeerConnection was given (after libp2p's defaults). */
  constructor(config: RTCConfiguration & { bindAddress?: string }, onFailed?: () => void) {
    super(`atoll-${++created}`, nativeConfig(config))
    this.#onFailed = onFailed
  }

  override createDataChannel(...args: [label: string, init?: object]): NativeChannel {
    const channel = super.createDataChannel(...args) // as given: the native one refuses an undefined init
    if (this.state() !== 'connected') this.#early.add(channel)
    return channel
  }

  override onStateChange(callback: (state: string) => void): void {
    super.onStateChange((state) => {
      if (state === 'failed') this.#onFailed?.()
      callback(state)
    })
  }

  override close(): void {
    super.close()
    for (const channel of this.#early) channel.close()
    this.#early.clear()
  }
}

/**
 * The native form of an RTCConfiguration, once node-datachannel has normalised it (`urls` as arrays). URLs
 * only: Atoll's `IceOptions` carry no TURN credentials.
 */
function nativeConfig(config: RTCConfiguration & { bindAddress?: string }): NativeConfig {
  return {
    iceServers: (config.iceServers ?? []).flatMap(({ urls }) => urls),
    bindAddress: config.bindAddress,
    iceTransportPolicy: config.iceTransportPolicy,
  }
}

/**
 * Closes and releases every native peer connection and channel of the process, so that none keeps it
 * alive. Only when no node uses WebRTC any more: it would cut their connections. A later peer connection
 * starts libdatachannel again.
 */
export function releaseNative(): void {
  nodeDatachannel.cleanup()
}
