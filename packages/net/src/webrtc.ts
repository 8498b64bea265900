/**
 * The WebRTC transport of the Node node: @libp2p/webrtc, whose peer connections are made here (see
 * webrtc-native.ts) so that a handshake that fails is dialled again, at once.
 *
 * A handshake fails now and then although ICE found a path, even on loopback. libdatachannel 0.24.5 lets
 * ICE connect inside the offerer's `setRemoteDescription`, before it stores the remote description, so a
 * DTLS certificate that arrives in that window fails its fingerprint check ("certificate verify failed";
 * unfixed upstream, libdatachannel PR #1612). The window is microseconds, but a busy CPU preempts the
 * thread inside it: 4 of 60 dials through a relay on loopback failed at load 10 on 2 cores, none of 76
 * on a quiet machine. @libp2p/webrtc 6.0.33 then ignores the failed peer connection and waits for the
 * dial's timeout (6 s per address; js-libp2p PR #3460). Here an attempt ends as soon as its peer
 * connection fails, and the dial is tried again, `WEBRTC_DIAL_ATTEMPTS` times in all.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { Connection, Logger, Startable, Transport } from '@libp2p/interface'
import { type WebRTCTransportComponents, webRTC } from '@libp2p/webrtc'
import type { Multiaddr } from '@multiformats/multiaddr'
import { WebRtcHandshakeError } from './errors.ts'
import { releaseNative, TrackedPeerConnection } from './webrtc-native.ts'

/**
 * Handshakes one WebRTC dial may take. At the worst failure rate measured (1 in 15), three all fail about
 * once in 3000 dials; a failed handshake ends within milliseconds of its DTLS alert, so three fit in the
 * 6 s that libp2p gives one address even at 1.3 s per handshake (the slowest measured under load).
 */
export const WEBRTC_DIAL_ATTEMPTS = 3

export interface IceOptions {
  /**
   * STUN (or TURN) server URLs, e.g. `stun:stun.example.org:3478`. Default: libp2p's public STUN list,
   * which a peer behind NAT needs to learn its public address; on a LAN or loopback none is needed.
   */
  servers?: string[]
  /** The one local address to gather candidates on (default: every interface). */
  bindAddress?: string
}

/** WebRTC transports started in this process and not stopped (over all nodes). */
let running = 0

/** One handshake of a dial: its signal also aborts when the peer connection made for it fails. */
class DialAttempt {
  readonly #failed = new AbortController()
  readonly signal: AbortSignal
  #claimed = false
  #settled = false

  constructor(dialSignal: AbortSignal) {
    this.signal = AbortSignal.any([dialSignal, this.#failed.signal])
  }

  /** Why the peer connection failed, if it did while the attempt ran. */
  get failure(): WebRtcHandshakeError | undefined {
    return this.#failed.signal.reason as WebRtcHandshakeError | undefined
  }

  /**
   * The failure callback for the first peer connection made in this attempt: the dial's own (made before
   * anything else of the dial). A later one in the same async context is another's (an inbound one).
   */
  claim(): (() => void) | undefined {
    if (this.#claimed) return undefined
    this.#claimed = true
    return () => {
      if (this.#settled) return // the dial is over: the connection's own close handling takes it
      this.#failed.abort(
        new WebRtcHandshakeError('its peer connection failed (state "failed") while connecting'),
      )
    }
  }

  settle(): void {
    this.#settled = true
  }
}

/** The RTCConfiguration for @libp2p/webrtc, with a tracked peer connection for the dial in hand. */
function trackedConfiguration(ice: IceOptions, dialing: AsyncLocalStorage<DialAttempt>) {
  return (): RTCConfiguration => {
    const onFailed = dialing.getStore()?.claim()
    let native: TrackedPeerConnection | undefined
    const config = {
      ...(ice.servers !== undefined ? { iceServers: ice.servers.map((urls) => ({ urls })) } : {}),
      // node-datachannel's extension: libdatachannel gathers candidates on this address only
      ...(ice.bindAddress !== undefined ? { bindAddress: ice.bindAddress } : {}),
      // node-datachannel's RTCPeerConnection uses this native connection instead of making one. It reads it
      // once libp2p has filled in its default STUN servers, so the native one gets the same list.
      get peerConnection(): TrackedPeerConnection {
        native ??= new TrackedPeerConnection(config, onFailed)
        return native
      },
    }
    return config
  }
}

/**
 * @libp2p/webrtc's transport (browser peers, and peers behind NAT signalled through a relay) whose dial is
 * tried again when a handshake fails, up to `attempts` times within the dial's own signal, and which
 * releases node-datachannel's native objects when the last node using it stops.
 */
export function webRtcTransport(ice: IceOptions = {}, attempts = WEBRTC_DIAL_ATTEMPTS) {
  const dialing = new AsyncLocalStorage<DialAttempt>()
  const factory = webRTC({ rtcConfiguration: trackedConfiguration(ice, dialing) })
  return (components: WebRTCTransportComponents): Transport => {
    const transport = factory(components) as Transport & Startable // @libp2p/webrtc's is startable
    const log = components.logger.forComponent('atoll:webrtc')
    const dialOnce = transport.dial.bind(transport)
    transport.dial = (address, options) =>
      dialRetrying({ address, signal: options.signal, attempts, log }, (attempt) =>
        dialing.run(attempt, () => dialOnce(address, { ...options, signal: attempt.signal })),
      )
    releaseNativeOnLastStop(transport, log)
    return transport
  }
}

/**
 * Counts the transport from its start to its node's stop; the last one releases node-datachannel (see
 * webrtc-native.ts). After the node's stop, not in the transport's: libp2p stops its components together,
 * so the connection manager may still be closing connections then.
 */
function releaseNativeOnLastStop(transport: Startable, log: Logger): void {
  const start = transport.start.bind(transport)
  let counted = false
  transport.start = async () => {
    await start()
    if (!counted) running++
    counted = true
  }
  transport.afterStop = () => {
    if (!counted) return
    counted = false
    if (--running > 0) return
    try {
      releaseNative()
    } catch (err) {
      log.error('could not release node-datachannel - %e', err) // the process may not exit by itself
    }
  }
}

interface RetryingDial {
  address: Multiaddr
  /** The dial's own signal (libp2p's timeout for the address, the caller's signal). */
  signal: AbortSignal
  attempts: number
  log: Logger
}

async function dialRetrying(
  dial: RetryingDial,
  dialOnce: (attempt: DialAttempt) => Promise<Connection>,
): Promise<Connection> {
  for (let attempted = 1; ; attempted++) {
    const attempt = new DialAttempt(dial.signal)
    try {
      return await dialOnce(attempt)
    } catch (err) {
      const failure = attempt.failure
      if (failure === undefined || dial.signal.aborted) throw err
      if (attempted === dial.attempts) {
        throw new WebRtcHandshakeError(
          `WebRTC dial to ${dial.address}: expected a connection within ${dial.attempts} handshakes, but each failed: ${failure.message}`,
        )
      }
      dial.log(
        'handshake %d of %d to %a failed, dialling again: %s',
        attempted,
        dial.attempts,
        dial.address,
        failure.message,
      )
    } finally {
      attempt.settle()
    }
  }
}
