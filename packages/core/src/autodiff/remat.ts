import type { Graph, Node, ValueInfo } from '../graph/types.ts'
import { BYTES_PER_ELEMENT } from '../tensor.ts'

/**
 * Ops that backward may run again instead of keeping their outputs: elementwise arithmetic and data
 * movement, cheap next to the bytes their outputs would hold. Everything else (MatMul, Gemm, Conv,
 * Softmax, normalisations, reductions) is kept, and so is Dropout, whose mask a rerun would redraw.
 */
const RECOMPUTABLE = new Set([
  'Identity', 'Cast', 'CastLike', 'Reshape', 'Flatten', 'Transpose', 'Squeeze', 'Unsqueeze',
  'Concat', 'Split', 'Slice', 'Expand', 'Gather', 'Where', 'Shape', 'Constant', 'ConstantOfShape',
  'Add', 'Sub', 'Mul', 'Div', 'Neg', 'Abs', 'Sqrt', 'Reciprocal', 'Pow', 'Exp', 'Log',
  'Tanh', 'Sigmoid', 'Relu', 'LeakyRelu', 'Erf', 'Gelu', 'Clip', 'Max', 'Min',
  'Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'Not', 'And', 'Or',
]) // biome-ignore format: a table

/** What a stage keeps from its forward run for backward, and what backward computes again. */
export interface StashPlan {
  /** forward values to keep (never a free value) */
  stash: string[]
  /** forward nodes backward runs again, in forward order, to rebuild the needed values not kept */
  recompute: Node[]
}

export interface StashPlanOptions {
  /** values backward has without keeping them: graph inputs, parameters, constants, stage outputs */
  free: ReadonlySet<string>
  /** static types of the forward values, for their sizes */
  types: ReadonlyMap<string, ValueInfo>
}

/**
 * The fewest bytes to keep between forward and backward: a minimum cut between the forward values
 * that must be kept (outputs of ops not worth recomputing) and those backward reads (`needed`), as
 * in AOTAutograd's rematerialising partitioner. A value backward needs is either kept or rebuilt
 * by recomputable ops from kept and free values, so a GELU's six intermediates cost one MatMul
 * output and a weight's transpose costs nothing.
 */
export function planStash(graph: Graph, needed: readonly string[], options: StashPlanOptions): StashPlan {
  const net = new FlowNetwork()
  const SOURCE = net.vertex()
  const SINK = net.vertex()
  const inV = new Map<string, number>()
  const outV = new Map<string, number>()
  const vertices = (v: string) => {
    if (!inV.has(v)) {
      const a = net.vertex()
      const b = net.vertex()
      inV.set(v, a)
      outV.set(v, b)
      net.edge(a, b, options.free.has(v) || !isProduced(v) ? 0 : bytesOf(v, options.types))
      if (!isProduced(v)) net.edge(SOURCE, a, Infinity)
    }
    return { into: inV.get(v)!, out: outV.get(v)! }
  }
  const producers = new Set(graph.nodes.flatMap((n) => n.outputs))
  const isProduced = (v: string) => producers.has(v)
  for (const node of graph.nodes) {
    const kept = !RECOMPUTABLE.has(node.opType)
    for (const o of node.outputs) {
      if (o === '') continue
      const { into } = vertices(o)
      if (kept) net.edge(SOURCE, into, Infinity)
      for (const i of node.inputs) if (i !== '') net.edge(vertices(i).out, into, Infinity)
    }
  }
  for (const v of needed) net.edge(vertices(v).out, SINK, Infinity)
  const reached = net.minCutSourceSide(SOURCE, SINK)
  const stash = [...inV.keys()].filter(
    (v) => isProduced(v) && !options.free.has(v) && reached[inV.get(v)!] && !reached[outV.get(v)!],
  )
  return { stash, recompute: recomputation(graph.nodes, needed, new Set([...stash, ...options.free])) }
}

/** The nodes that rebuild `needed` from `available`, in graph order. */
function recomputation(nodes: readonly Node[], needed: readonly string[], available: ReadonlySet<string>) {
  const want = new Set(needed.filter((v) => !available.has(v)))
  const keep: Node[] = []
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k]
    if (!n.outputs.some((o) => want.has(o))) continue
    keep.push(n)
    for (const i of n.inputs) if (i !== '' && !available.has(i)) want.add(i)
  }
  return keep.reverse()
}

/** Unknown sizes count as large, so that the cut keeps them only when nothing else will do. */
function bytesOf(v: string, types: ReadonlyMap<string, ValueInfo>): number {
  const t = types.get(v)
  if (t?.shape === undefined || t.shape.some((d) => typeof d !== 'number')) return 2 ** 40
  return (t.shape as number[]).reduce((a, d) => a * d, 1) * BYTES_PER_ELEMENT[t.dtype]
}

/** Max-flow by shortest augmenting paths (Edmonds–Karp); graphs here have hundreds of vertices. */
class FlowNetwork {
  private readonly adj: number[][] = []
  private readonly to: number[] = []
  private readonly cap: number[] = []

  vertex(): number {
    this.adj.push([])
    return this.adj.length - 1
  }

  edge(from: number, to: number, capacity: number): void {
    this.adj[from].push(this.to.length)
    this.to.push(to)
    this.cap.push(capacity)
    this.adj[to].push(this.to.length)
    this.to.push(from)
    this.cap.push(0)
  }

  /** Saturates every source–sink path, then marks what the source still reaches. */
  minCutSourceSide(source: number, sink: number): boolean[] {
    for (;;) {
      const via = this.bfs(source)
      if (via[sink] === -1) break
      let push = Infinity
      for (let v = sink; v !== source; v = this.to[via[v] ^ 1]) push = Math.min(push, this.cap[via[v]])
      for (let v = sink; v !== source; v = this.to[via[v] ^ 1]) {
        this.cap[via[v]] -= push
        this.cap[via[v] ^ 1] += push
      }
    }
    return this.bfs(source).map((e, v) => v === source || e !== -1)
  }

  /** For each vertex, the residual edge that first reached it (-1: unreached). */
  private bfs(source: number): number[] {
    const via = new Array<number>(this.adj.length).fill(-1)
    const queue = [source]
    for (let q = 0; q < queue.length; q++) {
      for (const e of this.adj[queue[q]]) {
        const w = this.to[e]
        if (this.cap[e] > 0 && via[w] === -1 && w !== source) {
          via[w] = e
          queue.push(w)
        }
      }
    }
    return via
  }
}
