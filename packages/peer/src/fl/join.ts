/**
 * `atoll fl join`'s work in Node: the client's shard of the training set (runtime's partitioners:
 * a Dirichlet(α) non-IID split, or an even IID one), its upload bandwidth probed to the server, and
 * each round's local training with runtime's localTrainer (the browser client's too: SGD at the
 * server's rate from the round's model, sessions kept between rounds); @atoll/sync's runFlClient
 * does the rest of the exchange.
 */
import type { ValueInfo } from '@atoll/core'
import type { AtollMesh, Multiaddr } from '@atoll/net'
import {
  type Backend,
  type BatchStream,
  dirichletPartition,
  epochOrder,
  IMAGE_NORMS,
  type ImageDatasetName,
  imageStream,
  type LocalTrainer,
  loadImageDataset,
  localTrainer,
  modelState,
  shard,
  subsetImages,
  trainableModel,
} from '@atoll/runtime'
import {
  type FlClientEvent,
  type FlClientSummary,
  type FlModel,
  type FlTrainRound,
  measureUplink,
  runFlClient,
} from '@atoll/sync'
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

export type NodeClientEvent =
  | FlClientEvent
  | { kind: 'measured'; bandwidthBps: number; samples: number }
  | { kind: 'step'; round: number; step: number; steps: number; loss: number }

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
  const bandwidthBps = await measureUplink(init.mesh, init.server, init.probeSeconds)
  init.onEvent?.({ kind: 'measured', bandwidthBps, samples: indices.length })
  let local: LocalData | undefined
  try {
    return await runFlClient({
      mesh: init.mesh,
      server: init.server,
      samples: indices.length,
      bandwidthBps,
      signal: init.signal,
      onEvent: init.onEvent,
      async prepare(settings) {
        if (settings.dataset !== init.dataset)
          throw new FlRequestError(
            `the federation trains on ${settings.dataset}, this client holds ${init.dataset}`,
          )
        const model = trainableModel({ zoo: settings.model.zoo, seed: settings.model.seed })
        if (modelState(model.graph).size > 0)
          throw new FlRequestError(
            `${settings.model.zoo} keeps running statistics, which federated rounds do not average`,
          )
        const input = model.graph.inputs.find((i) => i.name === model.dataInput) as ValueInfo
        const shard = subsetImages(train, indices)
        const options = { batchSize: settings.local.batchSize, seed: init.shard.seed }
        const { momentum } = settings.local
        local = {
          stream: imageStream(shard, IMAGE_NORMS[init.dataset], input, options),
          trainer: localTrainer(model, init.backend, {
            sgd: { momentum },
            intraOpThreads: init.threads ?? 1,
          }),
          offset: 0,
        }
      },
      train: (round) => trainRound(init, local as LocalData, round),
    })
  } finally {
    await local?.trainer.release()
  }
}

interface LocalData {
  stream: BatchStream
  /** runtime's trainer for federated rounds: its sessions are compiled once and kept */
  trainer: LocalTrainer
  /** batches taken so far: each round goes on where the last stopped in the shard's epoch order */
  offset: number
}

async function trainRound(init: JoinFederationInit, local: LocalData, round: FlTrainRound): Promise<FlModel> {
  const { epochs, maxSteps, lr } = round.settings.local
  const all = epochs * local.stream.batchesPerEpoch
  const steps = maxSteps > 0 ? Math.min(maxSteps, all) : all
  const start = local.offset
  local.offset += steps
  const update = await local.trainer.train({
    start: round.model,
    steps,
    schedule: { kind: 'constant', lr },
    batch: (k) => local.stream.shuffled(start + k),
    onStep: (report) => {
      // a stopped client leaves mid-round rather than finish training an update it will not send
      init.signal?.throwIfAborted()
      init.onEvent?.({ kind: 'step', round: round.task.round, step: report.step, steps, loss: report.loss })
    },
  })
  return update.delta
}
