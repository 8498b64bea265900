/**
 * What the three Atoll protocol services share: the libp2p host they register on, the emulated links
 * their writers pace through, and an observer the daemon turns into logs and metrics. Services take
 * only this, so tests can hand them stubs.
 */
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'
import { MAX_FRAME_BYTES } from './constants.ts'
import { PeerUnreachableError, TransferCancelledError } from './errors.ts'
import { FrameReader, FrameWriter } from './frames.ts'
import type { LinkTable } from './link.ts'

export type ProtocolHost = Pick<Libp2p, 'handle' | 'unhandle' | 'dial'>

/** Hooks for logs and metrics; every member is optional. Peers are named by their id string. */
export interface NetObserver {
  bytesSent?(peer: string, protocol: string, bytes: number): void
  bytesReceived?(peer: string, protocol: string, bytes: number): void
  streamOpened?(protocol: string, direction: 'inbound' | 'outbound'): void
  streamClosed?(protocol: string, direction: 'inbound' | 'outbound'): void
  /** A stream failed (reset, malformed input, limit exceeded); `err.name` is the code. */
  streamFailed?(protocol: string, peer: string, err: Error): void
}

export interface ProtocolContext {
  host: ProtocolHost
  links?: LinkTable
  observer?: NetObserver
}

/** A peer: its id (object or string), or addresses to dial (ending in `/p2p/<id>`). */
export type PeerTarget = PeerId | string | Multiaddr | Multiaddr[]

/** Reader and writer of one stream, wired to the observer and to the peer's emulated link. */
export interface Channel {
  peer: string
  stream: Stream
  reader: FrameReader
  writer: FrameWriter
}

export function channel(
  ctx: ProtocolContext,
  protocol: string,
  stream: Stream,
  peer: string,
  options: { maxFrameBytes?: number; signal?: AbortSignal } = {},
): Channel {
  const { observer } = ctx
  observer?.streamOpened?.(protocol, stream.direction)
  stream.addEventListener('close', () => observer?.streamClosed?.(protocol, stream.direction), { once: true })
  const reader = new FrameReader(stream, options.maxFrameBytes ?? MAX_FRAME_BYTES, (n) =>
    observer?.bytesReceived?.(peer, protocol, n),
  )
  const writer = new FrameWriter(stream, {
    link: ctx.links?.get(peer),
    signal: options.signal,
    onBytes: (n) => observer?.bytesSent?.(peer, protocol, n),
  })
  return { peer, stream, reader, writer }
}

/** Opens a stream for `protocol`; failures to dial or negotiate become PeerUnreachableError. */
export async function openChannel(
  ctx: ProtocolContext,
  target: PeerTarget,
  protocol: string,
  options: { signal?: AbortSignal; maxFrameBytes?: number } = {},
): Promise<Channel> {
  let stream: Stream
  let connection: Connection
  try {
    connection = await ctx.host.dial(typeof target === 'string' ? peerIdFromString(target) : target, {
      signal: options.signal,
    })
    stream = await connection.newStream(protocol, { signal: options.signal })
  } catch (err) {
    if (options.signal?.aborted) throw new TransferCancelledError()
    const e = err as Error
    throw new PeerUnreachableError(`cannot open ${protocol} to ${String(target)}: ${e.name}: ${e.message}`)
  }
  return channel(ctx, protocol, stream, connection.remotePeer.toString(), options)
}

/** Registers `handler` for `protocol`, with a channel per inbound stream and failures reported, never thrown. */
export async function serveProtocol(
  ctx: ProtocolContext,
  protocol: string,
  handler: (ch: Channel, connection: Connection) => Promise<void>,
  options: { maxInboundStreams?: number; maxFrameBytes?: number } = {},
): Promise<void> {
  await ctx.host.handle(
    protocol,
    async (stream, connection) => {
      const peer = connection.remotePeer.toString()
      const ch = channel(ctx, protocol, stream, peer, options)
      try {
        await handler(ch, connection)
      } catch (err) {
        ctx.observer?.streamFailed?.(protocol, peer, err as Error)
        stream.abort(err as Error)
      }
    },
    {
      maxInboundStreams: options.maxInboundStreams,
      maxOutboundStreams: options.maxInboundStreams,
      // A circuit relay v2 connection is limited (by default 128 KiB and 2 minutes), less than one
      // activation: peers behind NAT reach each other over the relay only to upgrade to WebRTC, and
      // Atoll's protocols run on the direct connection, so a relayed-only peer is unreachable to them.
      runOnLimitedConnection: false,
      force: true,
    },
  )
}
