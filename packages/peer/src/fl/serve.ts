/**
 * `atoll fl serve`'s work in Node: the FL.yaml's model built from the zoo, resumed from its
 * checkpoint folder when one is there, the federation served on the mesh (FlServer), the global
 * model (its parameters and running statistics) evaluated on `eval.samples` held-out images each
 * round (runtime's evaluate), and a checkpoint (runtime's, the round as its step, the statistics as
 * its model state) plus a metrics.jsonl line after each round.
 */
import { appendFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { parseWith, type Tensor, tensor, type ValueInfo } from '@atoll/core'
import type { AtollMesh } from '@atoll/net'
import {
  assignParameters,
  heldOutImages,
  type Backend,
  type BatchStream,
  evaluate,
  IMAGE_NORMS,
  imageStream,
  loadCheckpoint,
  loadImageDataset,
  modelState,
  type Parameter,
  parametersOf,
  saveCheckpoint,
  trainableModel,
} from '@atoll/runtime'
import { FederatedRounds, type FlModel } from '@atoll/sync'
import * as z from 'zod/mini'
import { FlCheckpointError } from './errors.ts'
import { FlServer, type FlRoundMetrics, type FlServerEvent } from './server.ts'
import type { FlSpec } from './spec.ts'

export const METRICS_FILE = 'metrics.jsonl'

export interface ServeFederationInit {
  spec: FlSpec
  /** started; the server's ctrl methods and tensor gate are put on it */
  mesh: AtollMesh
  /** where the held-out evaluation runs */
  backend: Backend
  onEvent?(event: FlServerEvent | { kind: 'resumed'; round: number; dir: string }): void
  signal?: AbortSignal
}

/** What the checkpoint record's `extra` holds: whose checkpoint it is. */
const checkpointExtra = z.object({ federation: z.string() })

/** Runs the federation's rounds left (all of them, or from its checkpoint on); returns each round's metrics. */
export async function serveFederation(init: ServeFederationInit): Promise<FlRoundMetrics[]> {
  const { spec, backend } = init
  const trainable = trainableModel({ zoo: spec.model.zoo, seed: spec.model.seed })
  const params = parametersOf(trainable.graph)
  // running statistics (BatchNorm's) are tensors of the global model too, averaged as they are
  const state = modelState(trainable.graph)
  const firstRound = await resume(spec, params, state)
  if (firstRound > 0) init.onEvent?.({ kind: 'resumed', round: firstRound, dir: spec.checkpoint.dir })
  const rounds = new FederatedRounds({
    model: modelOf(params, state),
    statistics: [...state.keys()],
    strategy: spec.strategy,
    roundSeconds: spec.deadlineSeconds,
    serverLearningRate: spec.server.lr,
    fraction: spec.clients.fraction,
    minClients: spec.clients.min,
    seed: spec.clients.seed,
    firstRound,
  })
  // opened at the first evaluation, once clients can join: the images take a while to load
  let data: BatchStream | undefined
  const server = new FlServer({
    mesh: init.mesh,
    federation: spec.name,
    rounds,
    lastRound: spec.rounds,
    minClients: spec.clients.min,
    settings: {
      rounds: spec.rounds,
      model: spec.model,
      dataset: spec.dataset,
      statistics: [...state.keys()],
      local: spec.local,
    },
    async evaluate(model) {
      setModel(params, state, model)
      if (data === undefined) {
        const input = trainable.graph.inputs.find((i) => i.name === trainable.dataInput) as ValueInfo
        const images = heldOutImages(loadImageDataset(spec.dataset).test, spec.eval.samples)
        data = imageStream(images, IMAGE_NORMS[spec.dataset], input, { batchSize: spec.eval.batchSize })
      }
      const result = await evaluate(trainable, params, backend, heldOut(data.ordered, data.batchesPerEpoch))
      return { loss: result.loss, accuracy: result.accuracy }
    },
    async afterRound(model, metrics) {
      setModel(params, state, model)
      const { dir } = spec.checkpoint
      await saveCheckpoint(dir, metrics.round + 1, params, undefined, {
        state,
        extra: { federation: spec.name },
      })
      await mkdir(dir, { recursive: true })
      await appendFile(join(dir, METRICS_FILE), `${JSON.stringify(metrics)}\n`)
    },
    onEvent: init.onEvent,
    signal: init.signal,
  })
  return server.run()
}

/** The round to start at: 0, or the checkpoint's next round with its model put into `params` and `state`. */
async function resume(
  spec: FlSpec,
  params: Parameter[],
  state: ReadonlyMap<string, Tensor>,
): Promise<number> {
  const { dir } = spec.checkpoint
  const loaded = await loadCheckpoint(dir)
  if (loaded === undefined) return 0
  const fail = (problem: { message: string }) =>
    new FlCheckpointError(`the checkpoint in ${dir} is not a federation's: ${problem.message}`)
  const { federation } = parseWith(checkpointExtra, loaded.record.extra, fail)
  if (federation !== spec.name)
    throw new FlCheckpointError(
      `the checkpoint in ${dir} is federation '${federation}'s, not '${spec.name}'s`,
    )
  assignParameters(params, loaded.params, { source: `the checkpoint in ${dir}` })
  const missing = [...state.keys()].filter((name) => !loaded.state.has(name))
  if (missing.length > 0)
    throw new FlCheckpointError(`the checkpoint in ${dir} has no running statistic '${missing.join("', '")}'`)
  assignParameters([], loaded.state, { source: `the checkpoint in ${dir}`, state })
  return loaded.record.step
}

function* heldOut<T>(batch: (k: number) => T, count: number): Generator<T> {
  for (let k = 0; k < count; k++) yield batch(k)
}

/** The global model: the parameters and the running statistics, copied. */
function modelOf(params: readonly Parameter[], state: ReadonlyMap<string, Tensor>): FlModel {
  const copy = (shape: readonly number[], data: Float32Array) => tensor('float32', [...shape], data.slice())
  return new Map([
    ...params.map((p): [string, Tensor<'float32'>] => [p.name, copy(p.shape, p.value)]),
    ...[...state].map(([name, t]): [string, Tensor<'float32'>] => [
      name,
      copy(t.shape, t.data as Float32Array),
    ]),
  ])
}

/** Puts the global model into the live parameters and running statistics (evaluation and checkpoints read them). */
function setModel(params: readonly Parameter[], state: ReadonlyMap<string, Tensor>, model: FlModel): void {
  for (const p of params) {
    const value = model.get(p.name)
    if (value !== undefined) p.value.set(value.data)
  }
  for (const [name, live] of state) {
    const value = model.get(name)
    if (value !== undefined) (live.data as Float32Array).set(value.data)
  }
}
