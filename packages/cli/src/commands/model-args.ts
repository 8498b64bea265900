/** What `atoll grads`, `fit` and `eval` share: which model, which data, which weights file. */
import { basename } from 'node:path'
import type { Tensor } from '@atoll/core'
import { readInput, UsageError, valueFlags } from '@atoll/flags'
import type { BatchStream, DataSourceOptions, TrainableModel } from '@atoll/runtime'

/** The flags that name the model and its data. */
export const MODEL_FLAGS = valueFlags('model', 'batch', 'data', 'loss')

export const MODEL_USAGE = [
  '  --model NAME           a built-in model: gpt2:tiny|mini|small|124M, mlp, mnist-cnn, resnet18',
  '  --batch FILE           one batch as safetensors: a tensor per graph input by name, and int64 `targets`',
  '  --data NAME            moby-dick[:gpt2], sotu[:gpt2], mnist, fashion-mnist',
  '  --loss cross-entropy   the mean softmax cross-entropy of the first output (the only loss so far)',
]

/** A model from a positional ONNX path or `--model NAME` (exactly one). */
export async function modelFromArgs(
  positionals: string[],
  modelName: string | undefined,
  options: { retie?: boolean; seed?: number } = {},
): Promise<TrainableModel> {
  const { onnxModel, zooModel } = await import('@atoll/runtime')
  if (positionals.length > 1) throw new UsageError(`one model at a time, got ${positionals.join(', ')}`)
  if ((positionals.length === 1) === (modelName !== undefined)) {
    throw new UsageError('give a model: MODEL.onnx or --model NAME (not both)')
  }
  if (modelName !== undefined) return zooModel(modelName, options.seed)
  const path = positionals[0]
  return onnxModel(readInput(path, 'MODEL.onnx'), { retie: options.retie, label: basename(path) })
}

type ModelValues = { model?: string; batch?: string; data?: string; loss?: string }

/** Checked with the other flags, before any file is read: a known loss, data from exactly one place. */
export function checkModelFlags(values: ModelValues): void {
  if (values.loss !== undefined && values.loss !== 'cross-entropy') {
    throw new UsageError(`--loss must be cross-entropy (the only loss so far), got '${values.loss}'`)
  }
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
  const model = await modelFromArgs(positionals, values.model, { seed: data.seed })
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
  for (const pair of text?.split(',').filter((p) => p !== '') ?? []) {
    const [name, value] = pair.split('=')
    const n = Number(value)
    if (!name || !Number.isInteger(n) || n < 1)
      throw new UsageError(`--bind wants NAME=N pairs, N a positive integer, got '${pair}'`)
    if (!symbols.includes(name)) {
      throw new UsageError(
        `--bind names '${name}', not a symbolic input dimension of the model (${symbols.join(', ') || 'none'})`,
      )
    }
    out[name] = n
  }
  return out
}
