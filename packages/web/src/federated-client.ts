/**
 * The page as a federated client: a libp2p node in the tab dials the server over WebSockets, then
 * sync's runImageClient probes the upload and takes part in the rounds — the Node client's code; only
 * the backend (onnxruntime-web) and the images (the page's shard or picked files) differ.
 */
import { AtollMesh, createBrowserNode, multiaddr } from '@atoll/net'
import type { Backend, ImageSet } from '@atoll/runtime'
import { type FlClientSummary, type ImageClientEvent, runImageClient } from '@atoll/sync'

/** Long enough to read a WebSockets link's rate, short beside a round. */
const PROBE_SECONDS = 1
/** How long the tab's node may take to close its connections when done. */
const STOP_MS = 1_000

export type PageClientEvent = ImageClientEvent | { kind: 'connected'; peerId: string }

export interface PageClientInit {
  /** the server's WebSockets multiaddr, ending in /p2p/<id> (page-options' checkServer) */
  server: string
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

/** Joins the federation at `init.server` from this tab and trains in its rounds until the server is done. */
export async function joinFromPage(init: PageClientInit): Promise<FlClientSummary> {
  const server = multiaddr(init.server)
  const mesh = new AtollMesh(await createBrowserNode())
  await mesh.start()
  init.onEvent({ kind: 'connected', peerId: mesh.peerId })
  try {
    return await runImageClient({ ...init, mesh, server, probeSeconds: PROBE_SECONDS })
  } finally {
    await mesh.stop(STOP_MS)
  }
}
