/**
 * Upgrading an imported graph of opset 7–12 to the semantics of opset 13, so that shape inference,
 * the reference interpreter, autodiff and export see one opset whatever exporter wrote the file
 * (PaddlePaddle's and tf2onnx's write 9 to 11; torch.onnx wrote 9 for years). Each op's rule is in
 * upgrade-rules.ts; Softmax and LogSoftmax, which before 13 flatten their input to 2-D at `axis`, are
 * done here, after the other rules, because whether that changes anything depends on the input's
 * rank, which only shape inference of the upgraded graph can tell.
 */
import { attr, type Graph, type Node } from '../graph/types.ts'
import { readAttrs } from '../ops/attrs.ts'
import { dtypeOfOnnxCode } from '../ops/onnx-dtype.ts'
import { BOOL_OPS, INT64_OPS, inferTypes } from '../ops/infer.ts'
import { constantValue } from '../ops/shape/generators.ts'
import { type DType, isFloat, type Tensor } from '../tensor.ts'
import { UnsupportedOnnxFeatureError } from './errors.ts'
import { derived, UPGRADE_RULES, type UpgradeContext } from './upgrade-rules.ts'

/** The oldest opset read: 7 brought numpy broadcasting without flags, which every later op assumes. */
export const OLDEST_OPSET = 7
/** What older graphs are upgraded to: the first opset with today's Softmax, Split, Squeeze and ReduceSum. */
export const UPGRADED_OPSET = 13

export interface GraphUpgrade {
  /** each node the upgrade added, with the node of the file it stands for */
  derivedFrom: Map<Node, Node>
  /** the initializers it added (axes, bounds, scales): inputs of ops, never parameters */
  added: Set<string>
}

const SOFTMAX_LIKE = new Set(['Softmax', 'LogSoftmax'])

/**
 * Rewrites `graph` (of its `opset`, in the file's topological order) in place into opset 13's
 * terms and sets its opset to 13; a graph of opset 13 or later is left as it is.
 */
export function upgradeGraph(graph: Graph): GraphUpgrade {
  const result: GraphUpgrade = { derivedFrom: new Map(), added: new Set() }
  if (graph.opset >= UPGRADED_OPSET) return result
  if (graph.opset < OLDEST_OPSET)
    throw new UnsupportedOnnxFeatureError(
      `opset ${graph.opset} is older than ${OLDEST_OPSET}, the oldest Atoll reads; convert it with onnx.version_converter first`,
    )
  const ctx = upgradeContext(graph, result.added)
  const nodes: Node[] = []
  const softmaxes: Node[] = []
  for (const node of graph.nodes) {
    upgradeSubgraphs(node, graph.opset)
    const rule = node.domain === undefined ? UPGRADE_RULES[node.opType] : undefined
    const out = rule?.(node, ctx) ?? [node]
    for (const n of out) if (n !== node) result.derivedFrom.set(n, node)
    nodes.push(...out)
    if (node.domain === undefined && SOFTMAX_LIKE.has(node.opType)) softmaxes.push(node)
  }
  graph.nodes = nodes
  graph.opset = UPGRADED_OPSET
  upgradeSoftmaxes(graph, softmaxes, ctx, result.derivedFrom)
  return result
}

function upgradeSubgraphs(node: Node, opset: number): void {
  for (const a of Object.values(node.attributes)) {
    const subgraphs = a.kind === 'graph' ? [a.value] : a.kind === 'graphs' ? a.value : []
    for (const g of subgraphs) {
      g.opset = opset
      upgradeGraph(g)
    }
  }
}

function upgradeContext(graph: Graph, added: Set<string>): UpgradeContext {
  const names = new Set<string>([...graph.initializers.keys(), ...graph.inputs.map((v) => v.name)])
  for (const n of graph.nodes) for (const o of n.outputs) names.add(o)
  const read = new Set(graph.outputs.map((v) => v.name))
  for (const n of graph.nodes) for (const i of n.inputs) read.add(i)
  const unique = (base: string) => {
    let name = base
    for (let k = 1; names.has(name); k++) name = `${base}_${k}`
    names.add(name)
    return name
  }
  const constants = constantNodeValues(graph)
  const dtypes = valueDtypes(graph, constants)
  return {
    opset: graph.opset,
    constant(node, role, value) {
      const name = unique(`${node.name}/${role}`)
      graph.initializers.set(name, value)
      added.add(name)
      dtypes.set(name, value.dtype)
      return name
    },
    fresh: (node, role) => unique(`${node.name}/${role}`),
    valueOf: (name) => graph.initializers.get(name) ?? constants.get(name),
    dtypeOf: (name) => dtypes.get(name),
    isRead: (name) => read.has(name),
  }
}

function constantNodeValues(graph: Graph): Map<string, Tensor> {
  const out = new Map<string, Tensor>()
  for (const n of graph.nodes) {
    if (n.opType !== 'Constant' || n.domain !== undefined || n.outputs[0] === undefined) continue
    try {
      out.set(n.outputs[0], constantValue(n, readAttrs(n)))
    } catch {
      // a malformed Constant is reported where it is used, by validation or inference
    }
  }
  return out
}

/**
 * Element types as far as a forward pass over the old graph can tell without shapes: enough for
 * the scalars a rule adds (Clip's bounds, Pad's value), which must match their data's type.
 */
function valueDtypes(graph: Graph, constants: Map<string, Tensor>): Map<string, DType> {
  const out = new Map<string, DType>()
  for (const v of graph.inputs) out.set(v.name, v.dtype)
  for (const [name, t] of graph.initializers) out.set(name, t.dtype)
  for (const [name, t] of constants) out.set(name, t.dtype)
  for (const n of graph.nodes) {
    const first = out.get(n.inputs[0] ?? '')
    const to = n.attributes.to
    const dtype =
      n.opType === 'Cast' && to?.kind === 'int'
        ? dtypeOfOnnxCode(to.value)
        : INT64_OPS.has(n.opType)
          ? 'int64'
          : BOOL_OPS.has(n.opType)
            ? 'bool'
            : first
    if (dtype !== undefined && n.outputs[0] && !out.has(n.outputs[0])) out.set(n.outputs[0], dtype)
  }
  return out
}

/**
 * Softmax and LogSoftmax before 13 flatten the input to [∏ d<axis, ∏ d≥axis] (default axis 1) and
 * normalise over the second dimension. Where `axis` is the last one that is 13's per-axis softmax;
 * elsewhere (or where the rank cannot be inferred) the node becomes Flatten → Softmax → Reshape
 * back to the input's shape, which is the old definition for every rank.
 */
function upgradeSoftmaxes(graph: Graph, nodes: Node[], ctx: UpgradeContext, derivedFrom: Map<Node, Node>) {
  if (nodes.length === 0) return
  const ranks = inputRanks(graph)
  const replaced = new Map<Node, Node[]>()
  for (const node of nodes) {
    const given = node.attributes.axis
    const axis = given?.kind === 'int' ? given.value : 1
    node.attributes.axis = attr.int(axis)
    const rank = ranks?.get(node.inputs[0])
    const last = axis === -1 || (rank !== undefined && (axis < 0 ? axis + rank : axis) === rank - 1)
    if (last) continue
    const out = flattenedSoftmax(node, ctx)
    for (const n of out) if (n !== node) derivedFrom.set(n, node)
    replaced.set(node, out)
  }
  graph.nodes = graph.nodes.flatMap((n) => replaced.get(n) ?? [n])
}

/** The rank of every value shape inference can tell, or undefined where it fails (an unsupported op). */
function inputRanks(graph: Graph): Map<string, number> | undefined {
  // weights are not known yet: float initializers count as parameters here, so that inference
  // does not fold through them as if they were constants
  const weights = [...graph.initializers].filter(([, t]) => isFloat(t.dtype) && t.shape.length > 0)
  try {
    const { types } = inferTypes({ ...graph, parameters: new Set(weights.map(([name]) => name)) })
    const ranks = new Map<string, number>()
    for (const [name, v] of types) if (v.shape !== undefined) ranks.set(name, v.shape.length)
    return ranks
  } catch {
    return undefined
  }
}

function flattenedSoftmax(node: Node, ctx: UpgradeContext): Node[] {
  const [x] = node.inputs
  const [y] = node.outputs
  const shape = ctx.fresh(node, 'shape')
  const flat = ctx.fresh(node, 'flat')
  const soft = ctx.fresh(node, 'flat_out')
  const axis = node.attributes.axis
  node.inputs = [flat]
  node.outputs = [soft]
  node.attributes = { axis: attr.int(1) }
  return [
    derived(node, 'shape', 'Shape', [x], [shape]),
    derived(node, 'flatten', 'Flatten', [x], [flat], { axis }),
    node,
    derived(node, 'reshape', 'Reshape', [soft, shape], [y]),
  ]
}
