/**
 * A federated client's local training on labelled images, the same code in Node (`atoll fl join`) and
 * in the browser page: the model the server names (a zoo model, the server's seed), batches of this
 * client's images in a seeded order that goes on where the last round stopped, and in each round SGD
 * at the server's rate and momentum from the round's global model (runtime's localTrainer: sessions
 * compiled once and kept between rounds). What runFlClient's `prepare` and `train` take;
 * runImageClient puts the upload probe and runFlClient around it, for both clients.
 */
import { type Tensor, tensor, type ValueInfo } from '@atoll/core'
import {
  type Backend,
  type BatchStream,
  type ImageSet,
  imageNormalisation,
  imageStream,
  type LocalTrainer,
  localTrainer,
  modelState,
  zooModel,
} from '@atoll/runtime'
import type { AtollMesh, Multiaddr } from '@atoll/net'
import {
  type FlClientEvent,
  type FlClientSummary,
  type FlTrainRound,
  measureUplink,
  runFlClient,
} from './client.ts'
import { FlTrainingError } from './errors.ts'
import type { FlModel } from './update.ts'
import type { FlJoinAnswer } from './wire.ts'

export interface ImageClientOptions {
  /** this client's images; their `name` must be the federation's dataset */
  images: ImageSet
  backend: Backend
  /** the batches' shuffle */
  seed: number
  /** onnxruntime's threads per session (default 1: clients often share a machine) */
  threads?: number
  /** after each local step; a throw (an abort) stops the round */
  onStep?(progress: { round: number; step: number; steps: number; loss: number }): void
}

/** What an image client tells its caller: the exchange's events, its probed upload, each local step. */
export type ImageClientEvent =
  | FlClientEvent
  | { kind: 'measured'; bandwidthBps: number; samples: number }
  | { kind: 'step'; round: number; step: number; steps: number; loss: number }

export interface ImageClientInit extends Omit<ImageClientOptions, 'onStep'> {
  mesh: AtollMesh
  /** the server's multiaddr, ending in /p2p/<peer id> */
  server: Multiaddr
  /** seconds of the upload probe to the server */
  probeSeconds: number
  onEvent?(event: ImageClientEvent): void
  /** stops the client, at the latest at its next local step */
  signal?: AbortSignal
}

/**
 * Probes the upload to `init.server`, joins with it and the images' count, and trains in each round
 * it is selected for until the server is done: `atoll fl join` and the browser page both run this.
 */
export async function runImageClient(init: ImageClientInit): Promise<FlClientSummary> {
  const { mesh, server, images, signal } = init
  const bandwidthBps = await measureUplink(mesh, server, init.probeSeconds)
  init.onEvent?.({ kind: 'measured', bandwidthBps, samples: images.count })
  const training = imageClientTraining({
    ...init,
    onStep: (progress) => {
      // a stopped client leaves mid-round rather than finish training an update it will not send
      signal?.throwIfAborted()
      init.onEvent?.({ kind: 'step', ...progress })
    },
  })
  try {
    return await runFlClient({
      mesh,
      server,
      samples: images.count,
      bandwidthBps,
      signal,
      onEvent: init.onEvent,
      prepare: (settings) => training.prepare(settings),
      train: (round) => training.train(round),
    })
  } finally {
    await training.release()
  }
}

export interface ImageClientTraining {
  /** checks the server's settings against this client and compiles the model; throws FlTrainingError */
  prepare(settings: FlJoinAnswer): void
  /** one round's local steps; returns Δ = θ_local − θ_global */
  train(round: FlTrainRound): Promise<FlModel>
  release(): Promise<void>
}

export function imageClientTraining(options: ImageClientOptions): ImageClientTraining {
  let local:
    | { stream: BatchStream; trainer: LocalTrainer; state: Map<string, Tensor>; offset: number }
    | undefined
  return {
    prepare(settings) {
      const { images } = options
      if (settings.dataset !== images.name)
        throw new FlTrainingError(
          `the federation trains on ${settings.dataset}, this client holds ${images.name}`,
        )
      const model = zooModel(settings.model.zoo, settings.model.seed)
      const state = modelState(model.graph)
      const named = [...state.keys()].sort().join()
      if ([...settings.statistics].sort().join() !== named)
        throw new FlTrainingError(
          `the server names running statistics [${settings.statistics}], ${settings.model.zoo} keeps [${[...state.keys()]}]`,
        )
      const input = model.graph.inputs.find((i) => i.name === model.dataInput) as ValueInfo
      const batching = { batchSize: settings.local.batchSize, seed: options.seed }
      local = {
        stream: imageStream(images, imageNormalisation(images.name), input, batching),
        trainer: localTrainer(model, options.backend, {
          sgd: { momentum: settings.local.momentum },
          intraOpThreads: options.threads ?? 1,
        }),
        state,
        offset: 0,
      }
    },
    async train(round) {
      if (local === undefined) throw new FlTrainingError('train before prepare')
      const { stream, trainer, state } = local
      const { epochs, maxSteps, lr } = round.settings.local
      const all = epochs * stream.batchesPerEpoch
      const steps = maxSteps > 0 ? Math.min(maxSteps, all) : all
      const start = local.offset
      local.offset += steps
      // the round's running statistics go into the model's live state; its parameters into the trainer
      const parameters = new Map([...round.model].filter(([name]) => !state.has(name)))
      for (const [name, live] of state) (live.data as Float32Array).set(statistic(round.model, name, live))
      const update = await trainer.train({
        start: parameters,
        steps,
        schedule: { kind: 'constant', lr },
        batch: (k) => stream.shuffled(start + k),
        onStep: (report) =>
          options.onStep?.({ round: round.task.round, step: report.step, steps, loss: report.loss }),
      })
      return new Map([...update.delta, ...statisticsDelta(state, round.model)])
    },
    async release() {
      await local?.trainer.release()
    },
  }
}

/** The running statistics' θ_local − θ_global, rounded to float32 as the parameters' Δ is. */
function statisticsDelta(state: ReadonlyMap<string, Tensor>, global: FlModel): [string, Tensor<'float32'>][] {
  return [...state].map(([name, live]) => {
    const start = statistic(global, name, live)
    const d = new Float32Array(start.length)
    for (let i = 0; i < d.length; i++) d[i] = (live.data as Float32Array)[i] - start[i]
    return [name, tensor('float32', [...live.shape], d)]
  })
}

/** The round model's values of running statistic `name`, as many as the live one has. */
function statistic(global: FlModel, name: string, live: Tensor): Float32Array {
  const values = global.get(name)?.data
  if (values === undefined || values.length !== live.data.length)
    throw new FlTrainingError(
      `the round's model has no running statistic '${name}' of ${live.data.length} values`,
    )
  return values
}
