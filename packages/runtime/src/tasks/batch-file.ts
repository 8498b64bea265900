import { type Graph, readSafetensors, type Tensor } from '@atoll/core'
import { TaskInputError } from '../errors.ts'

/**
 * A batch from a safetensors file: one tensor per graph input, by input name (`targets` included),
 * each with the input's dtype and a shape its symbolic dims can bind to. Anything else in the file
 * is an error, so a misspelt name never leaves an input silently at a default.
 */
export function readBatch(bytes: Uint8Array, graph: Graph, where = 'the batch file'): Record<string, Tensor> {
  let tensors: Map<string, Tensor>
  try {
    tensors = readSafetensors(bytes).tensors
  } catch (err) {
    throw new TaskInputError(`${where}: ${(err as Error).message}`)
  }
  return checkBatch(Object.fromEntries(tensors), graph, where)
}

export function checkBatch(
  batch: Record<string, Tensor>,
  graph: Graph,
  where = 'the batch',
): Record<string, Tensor> {
  const problems: string[] = []
  for (const input of graph.inputs) {
    const t = batch[input.name]
    if (t === undefined) {
      problems.push(`'${input.name}' is missing`)
      continue
    }
    if (t.dtype !== input.dtype)
      problems.push(`'${input.name}' is ${t.dtype}, the model wants ${input.dtype}`)
    const shape = input.shape
    if (shape !== undefined) {
      const fits =
        shape.length === t.shape.length && shape.every((d, i) => typeof d !== 'number' || d === t.shape[i])
      if (!fits) problems.push(`'${input.name}' has shape [${t.shape}], the model wants [${shape}]`)
    }
  }
  const known = new Set(graph.inputs.map((i) => i.name))
  for (const name of Object.keys(batch))
    if (!known.has(name)) problems.push(`'${name}' is not an input of the model`)
  if (problems.length > 0) throw new TaskInputError(`${where} does not fit the model: ${problems.join('; ')}`)
  return batch
}
