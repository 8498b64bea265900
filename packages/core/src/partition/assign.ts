/**
 * Which stage each node belongs to. A stage is given by scope prefixes (`h.0`, `h.1` — a prefix
 * matches the scope itself and its dotted children) or by explicit node names. A node that no
 * stage claims (the loss appended after the model, glue without a scope) joins the latest stage
 * among its producers, or stage 0 when it reads only graph inputs and initializers.
 */
import type { Graph } from '../graph.ts'
import { PartitionError } from './errors.ts'

export interface StageSpec {
  name?: string
  /** scope prefixes whose nodes this stage runs */
  scopes?: readonly string[]
  /** node names this stage runs */
  nodes?: readonly string[]
}

/** Stage index of every node, by node name. */
export function assignStages(graph: Graph, specs: readonly StageSpec[]): Map<string, number> {
  if (specs.length === 0) throw new PartitionError('at least one stage is needed')
  const byNode = new Map<string, number>()
  specs.forEach((spec, s) => {
    for (const name of spec.nodes ?? []) {
      if (byNode.has(name))
        throw new PartitionError(`node '${name}' is in stages ${byNode.get(name)} and ${s}`)
      byNode.set(name, s)
    }
  })
  const known = new Set(graph.nodes.map((n) => n.name))
  for (const name of byNode.keys()) {
    if (!known.has(name))
      throw new PartitionError(`stage lists node '${name}', which the graph does not have`)
  }
  const matches = (scope: string, prefix: string) => scope === prefix || scope.startsWith(`${prefix}.`)
  const producedIn = new Map<string, number>()
  const assignment = new Map<string, number>()
  for (const node of graph.nodes) {
    let stage = byNode.get(node.name)
    if (stage === undefined) {
      const claims = specs.flatMap((spec, s) => (spec.scopes?.some((p) => matches(node.scope, p)) ? [s] : []))
      if (claims.length > 1)
        throw new PartitionError(`node '${node.name}' (scope '${node.scope}') matches stages ${claims}`)
      stage = claims[0] ?? Math.max(0, ...node.inputs.map((i) => producedIn.get(i) ?? 0))
    }
    assignment.set(node.name, stage)
    for (const o of node.outputs) if (o !== '') producedIn.set(o, stage)
  }
  return assignment
}
