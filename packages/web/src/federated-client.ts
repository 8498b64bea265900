/**
 * The page as a federated client: a libp2p node in the tab dials the server over WebSockets, or over
 * WebRTC signalled through a relay it reaches over WebSockets, then sync's runImageClient probes the
 * upload and takes part in the rounds — the Node client's code; only the backend (onnxruntime-web)
 * and the images (the page's shard or picked files) differ.
 */
import { AtollMesh, createBrowserNode, type Multiaddr, multiaddr } from '@atoll/net'
import type { Backend, ImageSet } from '@atoll/runtime'
import { type FlClientSummary, type ImageClientEvent, runImageClient } from '@atoll/sync'
import { ServerUnreachableError } from './errors.ts'

/** Long enough to read a WebSockets link's rate, short beside a round. */
const PROBE_SECONDS = 1
/** How long the tab's node may take to close its connections when done. */
const STOP_MS = 1_000
/** How long one of the server's addresses gets to connect before the next is tried. */
const DIAL_MS = 15_000
/** Rounds over the server's addresses before the page gives up (a WebRTC handshake fails now and then). */
const DIAL_ROUNDS = 2

export type PageClientEvent =
  | ImageClientEvent
  /** the tab reached the server at `server`, directly over WebSockets or over WebRTC */
  | { kind: 'connected'; peerId: string; server: string; transport: 'websockets' | 'webrtc' }

export interface PageClientInit {
  /** the server's addresses, tried in turn (each checked by page-options' checkServer) */
  servers: readonly string[]
  /** STUN/TURN servers for WebRTC (default libp2p's public list) */
  iceServers?: string[]
  backend: Backend
  /** the images this tab trains on (p_k is their count) */
  images: ImageSet
  /** the batches' shuffle */
  seed: number
  /** onnxruntime-web's threads */
  threads?: number
  onEvent(event: PageClientEvent): void
  signal?: AbortSignal
}

/** Joins the federation at the first of `init.servers` that connects and trains in its rounds until the server is done. */
export async function joinFromPage(init: PageClientInit): Promise<FlClientSummary> {
  const mesh = new AtollMesh(
    await createBrowserNode(init.iceServers === undefined ? {} : { iceServers: init.iceServers }),
  )
  await mesh.start()
  try {
    const { server, transport } = await reachServer(mesh, init.servers, init.signal)
    init.onEvent({ kind: 'connected', peerId: mesh.peerId, server: server.toString(), transport })
    return await runImageClient({ ...init, mesh, server, probeSeconds: PROBE_SECONDS })
  } finally {
    await mesh.stop(STOP_MS)
  }
}

/** Dials the server's addresses in turn: the first that connects is the one the rounds run over. */
async function reachServer(
  mesh: AtollMesh,
  servers: readonly string[],
  signal: AbortSignal | undefined,
): Promise<{ server: Multiaddr; transport: 'websockets' | 'webrtc' }> {
  const failures: string[] = []
  for (const text of Array.from({ length: DIAL_ROUNDS }, () => servers).flat()) {
    const server = multiaddr(text)
    const timeout = AbortSignal.timeout(DIAL_MS)
    try {
      const connection = await mesh.node.dial(server, {
        signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      })
      const webrtc = connection.remoteAddr.getComponents().some((c) => c.name === 'webrtc')
      return { server, transport: webrtc ? 'webrtc' : 'websockets' }
    } catch (err) {
      if (signal?.aborted) throw err
      failures.push(`${text}: ${(err as Error).message}`)
    }
  }
  throw new ServerUnreachableError(
    servers.length === 0
      ? 'no address of the server to dial'
      : `the server answered at none of its addresses: ${failures.join('; ')}`,
  )
}
