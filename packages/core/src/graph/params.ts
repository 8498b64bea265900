/** Parameter bookkeeping that works for materialised and shapes-only graphs alike. */
import type { Graph } from './types.ts'
import { numel } from '../tensor.ts'
import { InvalidGraphError } from './errors.ts'

/** A parameter's static shape, from its initializer or (shapes-only graphs) its input declaration. */
export function parameterShape(graph: Graph, name: string): number[] {
  const init = graph.initializers.get(name)
  if (init !== undefined) return [...init.shape]
  const input = graph.inputs.find((v) => v.name === name)
  const shape = input?.shape
  if (shape === undefined || shape.some((d) => typeof d !== 'number')) {
    throw new InvalidGraphError(`parameter '${name}' has no static shape`)
  }
  return shape as number[]
}

/** Total number of trainable scalars (a tied weight counts once: it is one parameter). */
export function countParameters(graph: Graph): number {
  let n = 0
  for (const p of graph.parameters) n += numel(parameterShape(graph, p))
  return n
}
