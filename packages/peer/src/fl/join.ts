/**
 * `atoll fl join`'s work in Node: the client's shard of the training set (runtime's partitioners:
 * a Dirichlet(α) non-IID split, or an even IID one); @atoll/sync's runImageClient (the browser
 * page's too) probes the upload, trains each round and does the exchange.
 */
import type { AtollMesh, Multiaddr } from '@atoll/net'
import {
  type Backend,
  dirichletPartition,
  epochOrder,
  type ImageDatasetName,
  loadImageDataset,
  shard,
  subsetImages,
} from '@atoll/runtime'
import { type FlClientSummary, type ImageClientEvent, runImageClient } from '@atoll/sync'
import { FlRequestError } from './errors.ts'

export interface ClientShardOptions {
  /** this client's part, 0-based, of `count` */
  index: number
  count: number
  /** Dirichlet concentration; absent: an even IID split */
  alpha?: number
  /** the split's seed: every client of a federation must use the same one */
  seed: number
  /** keep at most this many of the part's samples (a seeded choice) */
  maxSamples?: number
}

/** Indices of this client's training samples, from the dataset's labels. */
export function clientShard(labels: ArrayLike<number>, options: ClientShardOptions): Uint32Array {
  const { index, count, alpha, seed } = options
  const part =
    alpha === undefined
      ? shard(epochOrder(labels.length, seed, 0), index, count)
      : dirichletPartition(labels, { alpha, clients: count, seed, minPerClient: 1 })[index]
  if (options.maxSamples === undefined || options.maxSamples >= part.length) return part
  const order = epochOrder(part.length, seed, index)
  return Uint32Array.from(order.subarray(0, options.maxSamples), (i) => part[i]).sort()
}

/** The events of `atoll fl join`'s client: sync's image client's. */
export type NodeClientEvent = ImageClientEvent

export interface JoinFederationInit {
  mesh: AtollMesh
  /** the server's multiaddr, ending in /p2p/<peer id> */
  server: Multiaddr
  dataset: ImageDatasetName
  shard: ClientShardOptions
  backend: Backend
  /** onnxruntime's threads per session (default 1: clients often share a machine) */
  threads?: number
  /** seconds of the upload probe to the server */
  probeSeconds: number
  onEvent?(event: NodeClientEvent): void
  signal?: AbortSignal
}

/** Joins the federation with this shard and trains in its rounds until the server is done. */
export async function joinFederation(init: JoinFederationInit): Promise<FlClientSummary> {
  const train = loadImageDataset(init.dataset).train
  const indices = clientShard(train.labels, init.shard)
  if (indices.length === 0)
    throw new FlRequestError(`partition ${init.shard.index + 1}/${init.shard.count} holds no samples`)
  return runImageClient({
    mesh: init.mesh,
    server: init.server,
    images: subsetImages(train, indices),
    backend: init.backend,
    seed: init.shard.seed,
    threads: init.threads,
    probeSeconds: init.probeSeconds,
    onEvent: init.onEvent,
    signal: init.signal,
  })
}
