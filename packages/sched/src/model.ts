import { type Graph, opCosts } from '@atoll/core'
import type { OpCost } from './types.ts'

/**
 * Op costs of a core OP-DAG (a zoo model or an imported ONNX file) as the planner's plain data:
 * core's shape-inferred FLOPs and bytes per node, plus which nodes each node reads from.
 * `bindings` fixes the symbolic dimensions (e.g. `{ batch: 8 }` for the micro-batch size).
 */
export function opCostsOfGraph(graph: Graph, bindings?: Readonly<Record<string, number>>): OpCost[] {
  const producer = new Map<string, string>()
  for (const node of graph.nodes) for (const out of node.outputs) if (out !== '') producer.set(out, node.name)
  const costs = opCosts(graph, bindings).nodes
  const paramBytes = (name: string) => {
    const t = graph.initializers.get(name)
    return t === undefined ? 0 : t.data.byteLength
  }
  return graph.nodes.map((node, i) => ({
    id: node.name,
    opType: node.opType,
    scope: node.scope,
    flops: costs[i].flops,
    paramBytes: costs[i].paramBytes,
    outputBytes: costs[i].outputBytes,
    inputs: [...new Set(node.inputs.flatMap((v) => (producer.has(v) ? [producer.get(v)!] : [])))],
    params: [...new Set(node.inputs.filter((v) => graph.parameters.has(v)))].map((name) => ({
      name,
      bytes: paramBytes(name),
    })),
  }))
}
