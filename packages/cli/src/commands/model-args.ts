/** What `atoll grads`, `fit` and `eval` share: which model, which data, which weights file. */
import { basename } from 'node:path'
import type { Tensor } from '@atoll/core'
import {
  deviceChoices,
  flagSpec,
  flagUsage,
  flagValue,
  ONNX_IMPORT_FLAGS,
  readInput,
  UsageError,
  valueFlags,
} from '@atoll/flags'
import type { BatchStream, DataSourceOptions, TrainableModel } from '@atoll/runtime'
import * as z from 'zod/mini'

/** The flags that name the model and its data, and how an ONNX file is read. */
export const MODEL_FLAGS = { ...valueFlags('model', 'batch', 'data', 'loss'), ...flagSpec(ONNX_IMPORT_FLAGS) }

/** The usage lines of ONNX_IMPORT_FLAGS, aligned with MODEL_USAGE's. */
export const ONNX_IMPORT_USAGE = flagUsage(ONNX_IMPORT_FLAGS, {}, 23)

export const MODEL_USAGE = [
  '  --model NAME           a built-in model: gpt2:tiny|mini|small|124M, mlp, mnist-cnn, resnet18',
  '  --batch FILE           one batch as safetensors: a tensor per graph input by name, and int64 `targets`',
  '  --data NAME            moby-dick[:gpt2], sotu[:gpt2], mnist, fashion-mnist',
  '  --loss cross-entropy   the mean softmax cross-entropy of the first output (the only loss so far)',
  ...ONNX_IMPORT_USAGE,
]

/** What `--device` offers: the runtime's backends, loaded only when a usage shows them. */
export async function deviceHelp(): Promise<string> {
  const { DEFAULT_BACKEND, nodeBackends } = await import('@atoll/runtime')
  return deviceChoices(nodeBackends(), DEFAULT_BACKEND)
}

/**
 * A model from a positional ONNX path or `--model NAME` (exactly one); `trainConstants` is
 * `--train-constants`, which only an ONNX file takes.
 */
export async function modelFromArgs(
  positionals: string[],
  modelName: string | undefined,
  options: { retie?: boolean; seed?: number; trainConstants?: boolean } = {},
): Promise<TrainableModel> {
  const { trainableModel } = await import('@atoll/runtime')
  if (positionals.length > 1) throw new UsageError(`one model at a time, got ${positionals.join(', ')}`)
  if ((positionals.length === 1) === (modelName !== undefined)) {
    throw new UsageError('give a model: MODEL.onnx or --model NAME (not both)')
  }
  if (modelName !== undefined && options.trainConstants)
    throw new UsageError('--train-constants reads an ONNX file; a built-in model has no Constant weights')
  // a job file's single-peer run builds its model through the same trainableModel
  if (modelName !== undefined) return trainableModel({ zoo: modelName, seed: options.seed })
  const path = positionals[0]
  const { retie, trainConstants } = options
  const model = trainableModel({
    onnx: readInput(path, 'MODEL.onnx'),
    retie,
    trainConstants,
    label: basename(path),
  })
  if (!trainConstants && model.graph.parameters.size === 0) await hintConstantWeights(model, path)
  return model
}

/** A model with nothing to train whose weights are Constant nodes: say which flag trains them. */
async function hintConstantWeights(model: TrainableModel, path: string): Promise<void> {
  const { constantWeights } = await import('@atoll/core')
  const count = constantWeights(model.graph).length
  if (count > 0)
    console.error(
      `${basename(path)} has no trainable initializer but ${count} weights in Constant nodes; --train-constants trains them`,
    )
}

type ModelValues = {
  model?: string
  batch?: string
  data?: string
  loss?: string
  'train-constants'?: boolean
}

/** Checked with the other flags, before any file is read: a known loss, data from exactly one place. */
export function checkModelFlags(values: ModelValues): void {
  // the only loss so far
  flagValue('loss', values.loss, z.literal('cross-entropy'))
  if ((values.batch === undefined) === (values.data === undefined)) {
    throw new UsageError('give the data: --batch BATCH.safetensors or --data NAME (not both)')
  }
}

/** The model and the data the flags name: one fixed batch (`--batch FILE`), or a dataset's stream. */
export async function modelAndData(
  positionals: string[],
  values: ModelValues,
  data: DataSourceOptions & { seed?: number },
): Promise<{ model: TrainableModel; data: { batch: Record<string, Tensor> } | { stream: BatchStream } }> {
  const trainConstants = values['train-constants']
  const model = await modelFromArgs(positionals, values.model, { seed: data.seed, trainConstants })
  if (values.batch !== undefined) return { model, data: { batch: await readBatchFile(values.batch, model) } }
  const { openDataSource } = await import('@atoll/runtime')
  return { model, data: { stream: await openDataSource(values.data!, model, data) } }
}

/** `--batch FILE`: a tensor for each graph input of `model`, checked against it. */
export async function readBatchFile(path: string, model: TrainableModel): Promise<Record<string, Tensor>> {
  const { readBatch } = await import('@atoll/runtime')
  return readBatch(readInput(path, '--batch'), model.graph, path)
}

/** Weights by parameter name from a safetensors file (`--init`, `--weights`). */
export async function readWeights(path: string, label: string): Promise<Map<string, Tensor>> {
  const { readSafetensors } = await import('@atoll/core')
  return readSafetensors(readInput(path, label)).tensors
}

/** `NAME=N,…` as [name, N] pairs, N an integer ≥ 1. */
const BINDINGS = z.pipe(
  z.string(),
  z.transform((text, ctx) => {
    const pairs = text
      .split(',')
      .filter((pair) => pair !== '')
      .map((pair) => pair.split('='))
      .map(([name, n]) => [name, Number(n)] as const)
    if (pairs.every(([name, n]) => name !== '' && Number.isInteger(n) && n >= 1)) return pairs
    ctx.issues.push({ code: 'custom', input: text, message: 'NAME=N pairs, N an integer ≥ 1' })
    return z.NEVER
  }),
)

/**
 * `--bind NAME=N,…`: values for a model's symbolic input dimensions, over `defaults`. A name the
 * model has no symbol for is a typo (`--bind btach=8`), refused rather than ignored.
 */
export function bindingsFlag(
  text: string | undefined,
  symbols: readonly string[],
  defaults: Record<string, number> = {},
): Record<string, number> {
  const out = { ...defaults }
  for (const [name, n] of flagValue('bind', text, BINDINGS) ?? []) {
    if (!symbols.includes(name)) {
      throw new UsageError(
        `--bind names '${name}', not a symbolic input dimension of the model (${symbols.join(', ') || 'none'})`,
      )
    }
    out[name] = n
  }
  return out
}
