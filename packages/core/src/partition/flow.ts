/** Which values carry a gradient: they depend on a parameter and the loss depends on them. */
import { NON_DIFFERENTIABLE } from '../autodiff/rule.ts'
import type { Graph, ValueInfo } from '../graph/types.ts'
import { isFloat } from '../tensor.ts'

export function gradientCarriers(
  graph: Graph,
  loss: string,
  types: ReadonlyMap<string, ValueInfo>,
): Set<string> {
  const fromParams = new Set(graph.parameters)
  for (const node of graph.nodes) {
    if (NON_DIFFERENTIABLE.has(node.opType) || !node.inputs.some((i) => fromParams.has(i))) continue
    for (const o of node.outputs) {
      const t = types.get(o)
      if (o !== '' && t && isFloat(t.dtype)) fromParams.add(o)
    }
  }
  const toLoss = new Set([loss])
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const node = graph.nodes[k]
    if (NON_DIFFERENTIABLE.has(node.opType) || !node.outputs.some((o) => toLoss.has(o))) continue
    for (const i of node.inputs) if (i !== '') toLoss.add(i)
  }
  return new Set([...fromParams].filter((v) => toLoss.has(v)))
}
