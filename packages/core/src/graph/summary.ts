/**
 * A model's summary for `atoll inspect` and planning: op histogram, parameter count, ops Atoll
 * cannot run, and FLOPs per scope (from the op contract's cost model).
 */
import type { Graph } from './types.ts'
import { isSupportedOp } from '../ops/contract.ts'
import { opCosts } from '../ops/costs.ts'
import { numel } from '../tensor.ts'
import { countParameters } from './params.ts'
import { type ConstantWeight, constantWeights } from './weights.ts'

/** How many of the largest constant weights a summary names. */
const LARGEST_CONSTANT_WEIGHTS = 5

export interface ScopeCost {
  scope: string
  nodes: number
  flops: number
  paramBytes: number
}

export interface GraphSummary {
  name: string
  opset: number
  nodes: number
  /** op type → node count, most frequent first */
  ops: [string, number][]
  parameters: number
  parameterTensors: number
  /** elements of initializers that are not trainable (running statistics, constants) */
  stateElements: number
  /**
   * Weights stored as Constant nodes (see constantWeights), which importing with `trainConstants`
   * (`--train-constants`) makes parameters: how many, their elements, the largest few.
   */
  constantWeights: { count: number; elements: number; largest: ConstantWeight[] }
  /** op types outside the contract, with their first node */
  unsupported: { opType: string; domain: string; count: number; firstNode: string }[]
  /** symbols of the inputs and the values they were bound to for the FLOP count */
  bindings: Record<string, number>
  /** FLOPs of one forward pass, total and per scope (cut at `depth` dot-separated parts) */
  flops?: number
  scopes?: ScopeCost[]
  /** why FLOPs could not be counted (unsupported ops, shapes inference failed) */
  flopsError?: string
}

export interface SummaryOptions {
  /** values for symbolic input dims; unbound symbols count as 1 */
  bindings?: Record<string, number>
  /** group scopes by their first `depth` parts (`h.3.attn.c_attn` at depth 2 → `h.3`); default all */
  depth?: number
}

export function summarizeGraph(graph: Graph, options: SummaryOptions = {}): GraphSummary {
  const ops = new Map<string, number>()
  const unsupported = new Map<string, GraphSummary['unsupported'][number]>()
  for (const node of graph.nodes) {
    ops.set(node.opType, (ops.get(node.opType) ?? 0) + 1)
    const domain = node.domain ?? ''
    if (isSupportedOp(node.opType, domain)) continue
    const key = `${domain}:${node.opType}`
    const u = unsupported.get(key) ?? { opType: node.opType, domain, count: 0, firstNode: node.name }
    u.count++
    unsupported.set(key, u)
  }
  let stateElements = 0
  for (const [name, t] of graph.initializers) if (!graph.parameters.has(name)) stateElements += numel(t.shape)
  const bindings = bindSymbols(graph, options.bindings ?? {})
  const summary: GraphSummary = {
    name: graph.name,
    opset: graph.opset,
    nodes: graph.nodes.length,
    ops: [...ops].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
    parameters: countParameters(graph),
    parameterTensors: graph.parameters.size,
    stateElements,
    constantWeights: summarizeConstantWeights(graph),
    unsupported: [...unsupported.values()],
    bindings,
  }
  if (unsupported.size > 0) {
    summary.flopsError = 'the graph has unsupported ops, so its shapes and FLOPs cannot be inferred'
    return summary
  }
  try {
    Object.assign(summary, scopeCosts(graph, bindings, options.depth))
  } catch (err) {
    summary.flopsError = `${(err as Error).name}: ${(err as Error).message}`
  }
  return summary
}

function summarizeConstantWeights(graph: Graph): GraphSummary['constantWeights'] {
  const all = constantWeights(graph)
  return {
    count: all.length,
    elements: all.reduce((sum, w) => sum + w.elements, 0),
    largest: all.slice(0, LARGEST_CONSTANT_WEIGHTS),
  }
}

/** The symbolic dimensions of the graph's inputs (`batch`, `seq`…), in first-seen order: what a caller may bind. */
export function inputSymbols(graph: Graph): string[] {
  const out = new Set<string>()
  for (const v of graph.inputs) for (const d of v.shape ?? []) if (typeof d === 'string') out.add(d)
  return [...out]
}

function bindSymbols(graph: Graph, given: Record<string, number>): Record<string, number> {
  return Object.fromEntries(inputSymbols(graph).map((d) => [d, given[d] ?? 1]))
}

function scopeCosts(graph: Graph, bindings: Record<string, number>, depth?: number) {
  const costs = opCosts(graph, bindings)
  const cut = (s: string) => (depth === undefined ? s : s.split('.').slice(0, depth).join('.'))
  const scopes = new Map<string, ScopeCost>()
  costs.nodes.forEach((c) => {
    const scope = cut(c.scope)
    const acc = scopes.get(scope) ?? { scope, nodes: 0, flops: 0, paramBytes: 0 }
    acc.nodes++
    acc.flops += c.flops
    scopes.set(scope, acc)
  })
  for (const [scope, c] of costs.byScope) {
    const acc = scopes.get(cut(scope))
    if (acc !== undefined) acc.paramBytes += c.paramBytes
  }
  return { flops: costs.total.flops, scopes: [...scopes.values()] }
}
