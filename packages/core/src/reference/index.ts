/**
 * The reference interpreter: executes a Graph node by node on plain typed arrays, with one small
 * readable kernel per op. It is the ground truth for tests (gradient rules by finite differences,
 * shape inference, backends), not a fast path: arithmetic is float64 internally, rounded to each
 * output's dtype (float32, float64, float16; int64 for indices and shapes; bool for masks).
 *
 * @example
 * ```ts
 * const { y } = runReference(graph, { x: float32([2, 2], [1, 2, 3, 4]) })
 * ```
 */
import type { Dim, Graph } from '../graph/types.ts'
import { KernelError, UndefinedValueError } from '../ops/errors.ts'
import type { Tensor } from '../tensor.ts'
import { FeedMismatchError, MissingFeedError } from './errors.ts'
import type { ReferenceOptions } from './kernel.ts'
import { runNode } from './run-node.ts'

export { FeedMismatchError, MissingFeedError } from './errors.ts'
export type { ReferenceOptions } from './kernel.ts'
export { hasKernel, runNode } from './run-node.ts'

/**
 * Runs `graph` on `feeds` (graph inputs; an initializer may be fed to override it, e.g. a perturbed
 * parameter) and returns the graph outputs plus the values named in `options.fetch`. Results may
 * share storage with the feeds and initializers (Identity, Reshape): treat them as read-only.
 */
export function runReference(
  graph: Graph,
  feeds: Readonly<Record<string, Tensor>>,
  options: ReferenceOptions = {},
): Record<string, Tensor> {
  const env = new Map<string, Tensor>(graph.initializers)
  checkFeeds(graph, feeds)
  for (const [name, t] of Object.entries(feeds)) env.set(name, t)
  for (const node of graph.nodes) {
    const inputs = node.inputs.map((name) => {
      if (name === '') return undefined
      const t = env.get(name)
      if (t === undefined) throw new UndefinedValueError(node, name)
      return t
    })
    const outs = runNode(node, inputs, graph.opset, options)
    node.outputs.forEach((name, i) => {
      if (name === '') return
      if (outs[i] === undefined) throw new KernelError(node, `output ${i} ('${name}') was not produced`)
      env.set(name, outs[i])
    })
  }
  const result: Record<string, Tensor> = {}
  for (const name of [...graph.outputs.map((o) => o.name), ...(options.fetch ?? [])]) {
    const t = env.get(name)
    if (t === undefined) throw new FeedMismatchError(`value '${name}' is not computed by the graph`)
    result[name] = t
  }
  return result
}

/** Every graph input fed, with its declared dtype and a shape that fits (symbols bound consistently). */
function checkFeeds(graph: Graph, feeds: Readonly<Record<string, Tensor>>): void {
  const declared = new Map(graph.inputs.map((v) => [v.name, v]))
  const symbols = new Map<string, number>()
  for (const v of graph.inputs) {
    if (!Object.hasOwn(feeds, v.name) && !graph.initializers.has(v.name)) throw new MissingFeedError(v.name)
  }
  for (const [name, t] of Object.entries(feeds)) {
    const v = declared.get(name)
    const init = graph.initializers.get(name)
    if (!v && !init) throw new FeedMismatchError(`'${name}' is neither a graph input nor an initializer`)
    const dtype = v?.dtype ?? init?.dtype
    const shape: Dim[] | undefined = v?.shape ?? init?.shape.slice()
    if (t.dtype !== dtype) throw new FeedMismatchError(`'${name}' must be ${dtype}, got ${t.dtype}`)
    if (!shape) continue
    const fits =
      shape.length === t.shape.length &&
      shape.every((d, i) => {
        if (typeof d === 'number') return d === t.shape[i]
        if ((symbols.get(d) ?? t.shape[i]) !== t.shape[i]) return false
        symbols.set(d, t.shape[i])
        return true
      })
    if (!fits) throw new FeedMismatchError(`'${name}' must have shape [${shape}], got [${t.shape}]`)
  }
}
