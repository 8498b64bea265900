/**
 * The page as a federated client: a libp2p node in the tab dials the server over WebSockets, probes
 * its upload to it, and takes part in its rounds. The exchange (sync's runFlClient) and each round's
 * training (sync's imageClientTraining on runtime's local trainer) are the Node client's code; only
 * the backend (onnxruntime-web) and the images (the page's shard) differ.
 */
import { AtollMesh, createBrowserNode, multiaddr } from '@atoll/net'
import type { Backend, ImageSet } from '@atoll/runtime'
import {
  type FlClientEvent,
  type FlClientSummary,
  imageClientTraining,
  measureUplink,
  runFlClient,
} from '@atoll/sync'

/** Long enough to read a WebSockets link's rate, short beside a round. */
const PROBE_SECONDS = 1
/** How long the tab's node may take to close its connections when done. */
const STOP_MS = 1_000

export type PageClientEvent =
  | FlClientEvent
  | { kind: 'connected'; peerId: string }
  | { kind: 'measured'; bandwidthBps: number }
  | { kind: 'step'; round: number; step: number; steps: number; loss: number }

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
  const training = imageClientTraining({
    images: init.images,
    backend: init.backend,
    seed: init.seed,
    threads: init.threads,
    onStep: (progress) => {
      init.signal?.throwIfAborted()
      init.onEvent({ kind: 'step', ...progress })
    },
  })
  try {
    const bandwidthBps = await measureUplink(mesh, server, PROBE_SECONDS)
    init.onEvent({ kind: 'measured', bandwidthBps })
    return await runFlClient({
      mesh,
      server,
      samples: init.images.count,
      bandwidthBps,
      signal: init.signal,
      onEvent: init.onEvent,
      prepare: (settings) => training.prepare(settings),
      train: (round) => training.train(round),
    })
  } finally {
    await training.release()
    await mesh.stop(STOP_MS)
  }
}
