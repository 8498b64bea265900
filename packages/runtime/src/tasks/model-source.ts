import { GPT2_CONFIGS, type Graph, gpt2, importOnnx, mlp, mnistCnn, resnet, type ZooModel } from '@atoll/core'
import { TaskInputError } from '../errors.ts'

/** A model ready to train: its graph (with the loss), the data input it reads, and the loss's name. */
export interface TrainableModel {
  graph: Graph
  /** the graph input fed with data (token ids, images); the other input is `targets` */
  dataInput: string
  loss: string
  /** e.g. `gpt2:tiny` or the ONNX file's graph name */
  label: string
}

export const ZOO_MODELS = [
  ...Object.keys(GPT2_CONFIGS).map((c) => `gpt2:${c}`),
  'mlp',
  'mnist-cnn',
  'resnet18',
] as const

/**
 * A built-in model by name: `gpt2:tiny|mini|small|124M`, `mlp`, `mnist-cnn`, `resnet18`. `seq` is a
 * GPT's sequence length (default its context); the other models take no sequence.
 */
export function zooModel(name: string, seed = 0, seq?: number): TrainableModel {
  if (seq !== undefined && !name.startsWith('gpt2:'))
    throw new TaskInputError(`'${name}' takes no sequence length, given ${seq}`)
  let m: ZooModel
  if (name.startsWith('gpt2:')) {
    const config = name.slice(5)
    if (!(config in GPT2_CONFIGS))
      throw new TaskInputError(
        `unknown GPT-2 size '${config}' (known: ${Object.keys(GPT2_CONFIGS).join(', ')})`,
      )
    const size = config as keyof typeof GPT2_CONFIGS
    const { ctx } = GPT2_CONFIGS[size]
    if (seq !== undefined && !(Number.isInteger(seq) && seq >= 1 && seq <= ctx))
      throw new TaskInputError(`a sequence of ${seq} tokens does not fit ${name}'s context of ${ctx}`)
    m = gpt2({ config: size, seq, seed })
  } else if (name === 'mlp') m = mlp({ seed })
  else if (name === 'mnist-cnn') m = mnistCnn({ seed })
  else if (name === 'resnet18') m = resnet({ depth: 18, seed, imageSize: 32, width: 0.25 })
  else throw new TaskInputError(`unknown model '${name}' (known: ${ZOO_MODELS.join(', ')})`)
  return { graph: m.graph, dataInput: m.inputs[0], loss: m.loss ?? 'loss', label: name }
}

/**
 * A model as data, as `atoll fit` and job files name it: a built-in (its initialisation seed and,
 * for a GPT, sequence length) or the bytes of an ONNX file (`label` names it in messages).
 */
export type ModelSource =
  | { zoo: string; seed?: number; seq?: number }
  | { onnx: Uint8Array; retie?: boolean; trainConstants?: boolean; label?: string }

/** The model a source names: the one place `atoll fit` and a job's single-peer run build it. */
export function trainableModel(source: ModelSource): TrainableModel {
  if ('zoo' in source) return zooModel(source.zoo, source.seed, source.seq)
  return onnxModel(source.onnx, source)
}

/**
 * An ONNX file (e.g. from torch.onnx.export) with a mean softmax cross-entropy appended on its
 * first output against a new int64 input `targets`. `retie` re-ties weights the exporter duplicated
 * (right for training); `atoll grads` turns it off to report one gradient per initializer in the file.
 * `trainConstants` makes weights kept in Constant nodes parameters (core's promoteConstantWeights).
 */
export function onnxModel(
  bytes: Uint8Array,
  options: { retie?: boolean; trainConstants?: boolean; label?: string } = {},
): TrainableModel {
  const graph = importOnnx(bytes, { retie: options.retie ?? true, trainConstants: options.trainConstants })
  const data = graph.inputs.filter((i) => i.name !== 'targets')
  if (data.length === 0) throw new TaskInputError('the ONNX model has no data input')
  return { graph, dataInput: data[0].name, loss: 'loss', label: options.label ?? graph.name }
}
