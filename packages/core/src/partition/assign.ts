/**
 * Which stage each node belongs to. A stage is given by scope prefixes (`h.0`, `h.1` — a prefix
 * matches the scope itself and its dotted children) or by explicit node names. A node that no
 * stage claims (the loss appended after the model, glue without a scope) joins the latest stage
 * among its producers; one that reads only graph inputs and initializers joins its earliest
 * consumer (stage 0 when nothing reads it).
 */
import type { Graph } from '../graph/types.ts'
import { PartitionError } from './errors.ts'

export interface StageSpec {
  name?: string
  /** scope prefixes whose nodes this stage runs */
  scopes?: readonly string[]
  /** node names this stage runs */
  nodes?: readonly string[]
}

/** Whether a stage's scope prefix claims a node of this scope: the scope itself or a dotted child. */
export function scopeMatches(scope: string, prefix: string): boolean {
  return scope === prefix || scope.startsWith(`${prefix}.`)
}

/** Stage index of every node, by node name. */
export function assignStages(graph: Graph, specs: readonly StageSpec[]): Map<string, number> {
  if (specs.length === 0) throw new PartitionError('at least one stage is needed')
  const count = specs.length
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
  const assignment = new Map<string, number>()
  for (const node of graph.nodes) {
    const claimed = byNode.get(node.name)
    const claims = specs.flatMap((spec, s) =>
      spec.scopes?.some((p) => scopeMatches(node.scope, p)) ? [s] : [],
    )
    if (claimed === undefined && claims.length > 1) {
      throw new PartitionError(`node '${node.name}' (scope '${node.scope}') matches stages ${claims}`)
    }
    const stage = claimed ?? claims[0]
    if (stage !== undefined) assignment.set(node.name, stage)
  }
  placeUnclaimed(graph, assignment, count)
  return assignment
}

/**
 * Unclaimed nodes go after their latest producer; those reading only graph inputs and constants
 * (a reshape of the targets) go with their earliest consumer, so that no stage ships them onward.
 */
function placeUnclaimed(graph: Graph, assignment: Map<string, number>, count: number): void {
  const producedIn = new Map<string, number>()
  for (const node of graph.nodes) {
    let stage = assignment.get(node.name)
    if (stage === undefined) {
      const known = node.inputs.map((i) => producedIn.get(i)).filter((s) => s !== undefined)
      if (known.length > 0) stage = Math.max(...known)
    }
    if (stage === undefined) continue
    assignment.set(node.name, stage)
    for (const o of node.outputs) if (o !== '') producedIn.set(o, stage)
  }
  const readIn = new Map<string, number>()
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const node = graph.nodes[k]
    const stage =
      assignment.get(node.name) ?? Math.min(count, ...node.outputs.map((o) => readIn.get(o) ?? count))
    const resolved = stage === count ? 0 : stage
    assignment.set(node.name, resolved)
    for (const i of node.inputs) readIn.set(i, Math.min(readIn.get(i) ?? count, resolved))
  }
}
