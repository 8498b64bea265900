import { type Graph, inferTypes, type Tensor, type ValueInfo } from '@atoll/core'
import { SessionError } from '../errors.ts'

/**
 * Cuts a graph's node list (topological order) into contiguous stages before the node indices
 * `cuts`. Each stage takes the graph inputs and earlier stages' values it reads, and outputs what
 * later stages read plus the graph outputs it computes. A mechanical split for tests and the
 * executor benchmark; placement-aware partitioning is core's (OP-Fence).
 */
export function splitContiguous(
  graph: Graph,
  cuts: readonly number[],
  bindings?: Readonly<Record<string, number>>,
): Graph[] {
  const bounds = [0, ...cuts, graph.nodes.length]
  for (let i = 1; i < bounds.length; i++) {
    if (!(bounds[i] > bounds[i - 1]))
      throw new SessionError(`cuts [${cuts}] must rise strictly within (0, ${graph.nodes.length})`)
  }
  // with bindings every boundary shape is static (a Reshape of a symbolic shape is otherwise
  // unknown), and shape arithmetic folds to constants that a later stage gets as its own
  // initializers rather than as boundary data it could not infer shapes from
  const { types, constants } = inferTypes(graph, { bindings })
  const graphOutputs = new Set(graph.outputs.map((o) => o.name))
  const pieces = bounds.slice(1).map((end, k) => graph.nodes.slice(bounds[k], end))
  const producedIn = new Map<string, number>()
  pieces.forEach((nodes, k) => {
    for (const n of nodes) for (const o of n.outputs) if (o !== '') producedIn.set(o, k)
  })
  const readLater = (k: number, value: string) =>
    pieces.some((nodes, j) => j > k && nodes.some((n) => n.inputs.includes(value)))
  return pieces.map((nodes, k) => {
    const reads = new Set(nodes.flatMap((n) => n.inputs).filter((i) => i !== '' && producedIn.get(i) !== k))
    const initializers = new Map<string, Tensor>()
    const inputs: ValueInfo[] = []
    for (const r of reads) {
      const init = graph.initializers.get(r) ?? (producedIn.has(r) ? constants.get(r) : undefined)
      if (init !== undefined) initializers.set(r, init)
      else inputs.push(info(types, r))
    }
    const outputs = [...producedIn]
      .filter(([v, at]) => at === k && (graphOutputs.has(v) || (readLater(k, v) && !constants.has(v))))
      .map(([v]) => info(types, v))
    return {
      ...graph,
      name: `${graph.name}.stage${k}`,
      nodes,
      inputs,
      outputs,
      initializers,
      parameters: new Set([...graph.parameters].filter((p) => initializers.has(p))),
      valueInfo: new Map(),
    }
  })
}

function info(types: Map<string, ValueInfo>, name: string): ValueInfo {
  const t = types.get(name)
  if (t === undefined) throw new SessionError(`no type for '${name}'`)
  return { ...t, name }
}

/** Cut points that give `stages` stages of roughly equal node counts. */
export function evenCuts(graph: Graph, stages: number): number[] {
  return Array.from({ length: stages - 1 }, (_, i) => Math.round(((i + 1) * graph.nodes.length) / stages))
}
