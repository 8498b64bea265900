/**
 * A stage as the bytes that travel to its worker: the forward graph as ONNX with its parameters
 * turned into graph inputs, and the parameters' values as safetensors. Each blob is named by its
 * sha-256, so a worker that already holds one (the same cut after a re-plan, the same weights) is
 * not sent it again, and a blob whose bytes do not match its name is refused.
 */
import { createHash } from 'node:crypto'
import { exportOnnx, type Graph, importOnnxGraph, type Tensor } from '@atoll/core'
import { checkpointBytes, checkpointParts } from '@atoll/runtime'
import { JobAssignmentError } from './errors.ts'

export interface StageBlobs {
  graph: Uint8Array
  params: Uint8Array
}

export function blobHashOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/**
 * The stage's graph without its parameters' values, and those values (runtime's checkpoint format:
 * with the optimizer's buffers of the stage's parameters when the job resumes from a checkpoint).
 */
export function packStage(graph: Graph, optimizer: ReadonlyMap<string, Tensor> = new Map()): StageBlobs {
  const params = new Map<string, Tensor>()
  const initializers = new Map<string, Tensor>()
  for (const [name, value] of graph.initializers)
    (graph.parameters.has(name) ? params : initializers).set(name, value)
  const asInputs = [...params].map(([name, t]) => ({ name, dtype: t.dtype, shape: [...t.shape] }))
  const bare: Graph = {
    ...graph,
    initializers,
    inputs: [...graph.inputs, ...asInputs],
    parameters: new Set(),
  }
  const values = [...params].map(([name, t]) => ({ name, shape: t.shape, value: t.data as Float32Array }))
  const buffers = new Map([...optimizer].filter(([key]) => params.has(key.slice(0, key.lastIndexOf('.')))))
  return { graph: exportOnnx(bare), params: checkpointBytes(0, values, { tensors: buffers }) }
}

/** The stage graph back, its parameters made initializers again with the sent values; the optimizer's buffers. */
export function unpackStage(blobs: StageBlobs): { graph: Graph; optimizer: Map<string, Tensor> } {
  const graph = importOnnxGraph(blobs.graph, { trainable: () => false })
  const { params: tensors, optimizerTensors } = checkpointParts(blobs.params)
  for (const [name, value] of tensors) {
    const input = graph.inputs.find((i) => i.name === name)
    if (input === undefined)
      throw new JobAssignmentError(`parameter '${name}' is not an input of the stage graph`)
    if (input.dtype !== value.dtype || input.shape?.join() !== value.shape.join())
      throw new JobAssignmentError(
        `parameter '${name}' is ${value.dtype}[${value.shape}], the graph declares ${input.dtype}[${input.shape}]`,
      )
    graph.initializers.set(name, value)
    graph.parameters.add(name)
  }
  graph.inputs = graph.inputs.filter((i) => !tensors.has(i.name))
  return { graph, optimizer: optimizerTensors }
}
