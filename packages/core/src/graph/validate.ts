/** Structural validation and topological ordering of the OP-DAG. */
import type { Graph, Node } from './types.ts'
import { isSupportedOp } from '../ops/contract.ts'
import {
  DanglingValueError,
  DuplicateNameError,
  GraphCycleError,
  InvalidGraphError,
  UnknownOpError,
} from './errors.ts'

export interface ValidateOptions {
  /**
   * Which op types are known: a set of op types (default domain), a predicate, or 'any' to skip the
   * check. Default: the op contract (`isSupportedOp`).
   */
  knownOps?: ReadonlySet<string> | ((opType: string, domain: string) => boolean) | 'any'
}

/** Map from value name to the node producing it; graph inputs and initializers map to undefined. */
export function producers(graph: Graph): Map<string, Node | undefined> {
  const made = new Map<string, Node | undefined>()
  const define = (name: string, node: Node | undefined) => {
    if (made.has(name)) throw new DuplicateNameError(name, node?.name ?? '', 'value')
    made.set(name, node)
  }
  for (const v of graph.inputs) define(v.name, undefined)
  for (const name of graph.initializers.keys()) define(name, undefined)
  for (const node of graph.nodes) for (const out of node.outputs) if (out !== '') define(out, node)
  return made
}

function isKnown(node: Node, known: ValidateOptions['knownOps']): boolean {
  if (known === 'any') return true
  const domain = node.domain ?? ''
  if (known === undefined) return isSupportedOp(node.opType, domain)
  if (typeof known === 'function') return known(node.opType, domain)
  return (domain === '' || domain === 'ai.onnx') && known.has(node.opType)
}

/**
 * Checks names, op types, references and acyclicity; throws the first problem found as a typed
 * error naming the node. Returns the nodes in a topological order (see `topologicalOrder`).
 */
export function validateGraph(graph: Graph, options: ValidateOptions = {}): Node[] {
  if (!Number.isInteger(graph.opset) || graph.opset < 1)
    throw new InvalidGraphError(`bad opset ${graph.opset}`)
  const names = new Set<string>()
  for (const node of graph.nodes) {
    if (names.has(node.name)) throw new DuplicateNameError(node.name, node.name, 'node')
    names.add(node.name)
    if (!isKnown(node, options.knownOps)) throw new UnknownOpError(node.opType, node.name)
  }
  const made = producers(graph)
  for (const node of graph.nodes) {
    for (const input of node.inputs) {
      if (input !== '' && !made.has(input)) throw new DanglingValueError(input, node.name)
    }
  }
  for (const out of graph.outputs) if (!made.has(out.name)) throw new DanglingValueError(out.name, '')
  for (const p of graph.parameters) {
    const declared = graph.initializers.has(p) || graph.inputs.some((v) => v.name === p)
    if (!declared) throw new InvalidGraphError(`parameter '${p}' is neither an initializer nor a graph input`)
  }
  return topologicalOrder(graph, made)
}

/**
 * The nodes in a topological order, as close to the given order as possible (Kahn's algorithm that
 * always takes the earliest ready node), so an already sorted graph keeps its order exactly.
 */
export function topologicalOrder(graph: Graph, made = producers(graph)): Node[] {
  const index = new Map(graph.nodes.map((n, i) => [n, i]))
  const waiting = new Array<number>(graph.nodes.length).fill(0)
  const consumers: number[][] = graph.nodes.map(() => [])
  graph.nodes.forEach((node, i) => {
    for (const input of new Set(node.inputs)) {
      const p = input === '' ? undefined : made.get(input)
      if (p === undefined) continue
      waiting[i]++
      consumers[index.get(p)!].push(i)
    }
  })
  const ready = new MinHeap()
  for (let i = 0; i < waiting.length; i++) if (waiting[i] === 0) ready.push(i)
  const order: Node[] = []
  while (ready.size > 0) {
    const i = ready.pop()
    order.push(graph.nodes[i])
    for (const c of consumers[i]) if (--waiting[c] === 0) ready.push(c)
  }
  if (order.length < graph.nodes.length) {
    const stuck = graph.nodes.filter((_, i) => waiting[i] > 0).map((n) => n.name)
    throw new GraphCycleError(stuck.slice(0, 8))
  }
  return order
}

/** A graph with its nodes in topological order (validated first). */
export function sortGraph(graph: Graph, options: ValidateOptions = {}): Graph {
  return { ...graph, nodes: validateGraph(graph, options) }
}

/** A binary min-heap of node indices: keeps Kahn's algorithm O(n log n) while preserving order. */
class MinHeap {
  private items: number[] = []
  get size(): number {
    return this.items.length
  }
  push(v: number): void {
    const a = this.items
    a.push(v)
    let i = a.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (a[parent] <= a[i]) break
      ;[a[parent], a[i]] = [a[i], a[parent]]
      i = parent
    }
  }
  pop(): number {
    const a = this.items
    const top = a[0]
    const last = a.pop()!
    if (a.length > 0) {
      a[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < a.length && a[l] < a[m]) m = l
        if (r < a.length && a[r] < a[m]) m = r
        if (m === i) break
        ;[a[m], a[i]] = [a[i], a[m]]
        i = m
      }
    }
    return top
  }
}
