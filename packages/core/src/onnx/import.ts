/** importOnnx: ONNX bytes (e.g. from PyTorch's torch.onnx.export) → Atoll's Graph. */
import { type AppendLossOptions, appendCrossEntropyLoss } from '../builder/loss.ts'
import type { Attribute, Dim, Graph, Node, ValueInfo } from '../graph/types.ts'
import { validateGraph } from '../graph/validate.ts'
import { defaultTrainable, promoteConstantWeights, settingValues } from '../graph/weights.ts'
import { isSupportedOp } from '../ops/contract.ts'
import { dtypeOfOnnxCode } from '../ops/onnx-dtype.ts'
import type { Tensor } from '../tensor.ts'
import { attributeFromProto } from './attributes.ts'
import { UnsupportedOpError } from '../ops/errors.ts'
import { InvalidOnnxModelError, UnsupportedOnnxFeatureError } from './errors.ts'
import { decodeModel } from './decode.ts'
import type { GraphP, NodeP, ValueInfoP } from './proto.ts'
import { hasAtollScope, scopeOfNode } from './scope.ts'
import { retieDuplicateParameters } from './retie.ts'
import { tensorFromProto } from './tensors.ts'
import { upgradeGraph } from './upgrade.ts'

export interface ImportGraphOptions {
  /**
   * Which ops are accepted: a predicate, or 'any' to import whatever is there (e.g. to list the
   * unsupported ops). Default: the op contract.
   */
  supportedOps?: ((opType: string, domain: string) => boolean) | 'any'
  /**
   * Which initializers are trainable. Default `defaultTrainable`: floating-point ones of rank ≥ 1,
   * except BatchNorm running statistics, other ops' settings (Clip's bounds, Resize's scales…) and
   * masks (holding ±inf or |v| ≥ 1e30); rank-0 ones are the dynamo exporter's scalar constants.
   */
  trainable?: (name: string, value: Tensor, graph: Graph) => boolean
  /**
   * Turn weights stored as Constant nodes (or Identity-of-Constant) into initializers, which
   * `trainable` then decides on like any other: every floating-point Constant of at least
   * MIN_CONSTANT_WEIGHT_ELEMENTS elements that is not read as a statistic or setting (see
   * constantWeights). Default false: constants stay nodes.
   */
  trainConstants?: boolean
}

/**
 * The graph of an ONNX model, with no loss appended (see `importOnnx` for that). A graph of opset
 * 7–12 is upgraded to opset 13 (see upgrade.ts); later opsets are kept.
 */
export function importOnnxGraph(bytes: Uint8Array, options: ImportGraphOptions = {}): Graph {
  const model = decodeModel(bytes)
  if (model.graph === undefined) throw new InvalidOnnxModelError('the model has no graph')
  if (model.functions > 0) {
    throw new UnsupportedOnnxFeatureError(
      `the model defines ${model.functions} local function(s); inline them first`,
    )
  }
  const opset = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version
  if (opset === undefined || opset < 1) throw new InvalidOnnxModelError('the model imports no ai.onnx opset')
  const graph = convertGraph(model.graph, opset, 'graph')
  // the file's node of each node, for scopes; nodes the upgrade adds take the one they stand for
  const sources = new Map(graph.nodes.map((n, i) => [n, model.graph!.nodes[i]]))
  const upgrade = upgradeGraph(graph)
  for (const [n, origin] of upgrade.derivedFrom) sources.set(n, sources.get(origin)!)
  if (options.trainConstants) promoteConstantWeights(graph)
  const supported = options.supportedOps ?? isSupportedOp
  if (supported !== 'any') {
    for (const node of graph.nodes) {
      if (!supported(node.opType, node.domain ?? '')) throw new UnsupportedOpError(node)
    }
  }
  const settings = settingValues(graph)
  const trainable = options.trainable ?? ((name, value) => defaultTrainable(name, value, graph, settings))
  for (const [name, value] of graph.initializers)
    if (!upgrade.added.has(name) && trainable(name, value, graph)) graph.parameters.add(name)
  assignScopes(graph, sources)
  return graph
}

function convertGraph(g: GraphP, opset: number, where: string): Graph {
  const initializers = new Map<string, Tensor>()
  for (const t of g.initializers) {
    if (t.name === '') throw new InvalidOnnxModelError(`${where}: an initializer has no name`)
    if (initializers.has(t.name))
      throw new InvalidOnnxModelError(`${where}: initializer '${t.name}' appears twice`)
    initializers.set(t.name, tensorFromProto(t, `initializer '${t.name}'`))
  }
  if (g.sparseInitializers > 0) throw new UnsupportedOnnxFeatureError(`${where} has sparse initializers`)
  const names = new Set<string>()
  const nodes: Node[] = g.nodes.map((n, i) => {
    // exporters may leave names empty or repeat them; Atoll needs unique node names
    let name = n.name === '' ? `${n.opType}_${i}` : n.name
    while (names.has(name)) name = `${name}_${i}`
    names.add(name)
    const attributes: Record<string, Attribute> = {}
    for (const a of n.attributes) {
      attributes[a.name] = attributeFromProto(a, `node '${name}'`, (sub) =>
        convertGraph(sub, opset, `node '${name}'`),
      )
    }
    const node: Node = { name, opType: n.opType, inputs: n.inputs, outputs: n.outputs, attributes, scope: '' }
    if (n.domain !== '' && n.domain !== 'ai.onnx') node.domain = n.domain
    return node
  })
  const valueInfo = new Map<string, ValueInfo>()
  for (const v of g.valueInfo) {
    const info = convertValueInfo(v, false)
    if (info !== undefined) valueInfo.set(v.name, info)
  }
  return {
    name: g.name || 'model',
    nodes,
    // old exporters list initializers among the inputs too; those are not inputs to feed
    inputs: g.inputs.filter((v) => !initializers.has(v.name)).map((v) => convertValueInfo(v, true)!),
    outputs: g.outputs.map((v) => convertValueInfo(v, true)!),
    initializers,
    parameters: new Set(),
    valueInfo,
    opset,
  }
}

function convertValueInfo(v: ValueInfoP, required: boolean): ValueInfo | undefined {
  const dtype = v.elemType === undefined ? undefined : dtypeOfOnnxCode(v.elemType)
  if (dtype === undefined) {
    if (!required) return undefined
    throw new UnsupportedOnnxFeatureError(
      `graph input/output '${v.name}' has ${v.elemType === undefined ? 'no tensor type' : `ONNX data type ${v.elemType}`}`,
    )
  }
  if (v.shape === undefined) return { name: v.name, dtype }
  // a dimension with neither a size nor a name gets a unique symbol, so it never unifies by accident
  const shape: Dim[] = v.shape.map((d, i) => (d === '' ? `${v.name}_dim${i}` : d))
  return { name: v.name, dtype, shape }
}

/**
 * Scopes from PyTorch's module paths. Functional ops called outside any module (F.gelu in a
 * forward) have none; they join the layer that produced their first scoped input, and constants
 * join their first consumer's, so that every node belongs to a layer when the graph is cut into
 * stages by scope.
 */
function assignScopes(graph: Graph, byName: ReadonlyMap<Node, NodeP>): void {
  if ([...byName.values()].some(hasAtollScope)) {
    // written by exportOnnx: Atoll's own scopes, taken as they are
    for (const node of graph.nodes) node.scope = scopeOfNode(byName.get(node)!, graph.parameters)
    return
  }
  const scopeOfValue = new Map<string, string>()
  for (const node of graph.nodes) {
    node.scope = scopeOfNode(byName.get(node)!, graph.parameters)
    if (node.scope === '') {
      node.scope = node.inputs.map((i) => scopeOfValue.get(i) ?? '').find((s) => s !== '') ?? ''
    }
    for (const o of node.outputs) scopeOfValue.set(o, node.scope)
  }
  // constants and other input-less nodes join the layer of their first consumer
  const consumerScope = new Map<string, string>()
  for (const node of [...graph.nodes].reverse()) {
    if (node.scope === '')
      node.scope = node.outputs.map((o) => consumerScope.get(o) ?? '').find((s) => s !== '') ?? ''
    for (const i of node.inputs)
      if (node.scope !== '' && !consumerScope.has(i)) consumerScope.set(i, node.scope)
  }
}

export interface ImportOnnxOptions extends ImportGraphOptions {
  /**
   * The loss to append: cross-entropy on `output` (default the first output) against a new int64
   * input `targets`, mean over all positions. `false` appends none. Default: `{}`.
   */
  loss?: AppendLossOptions | false
  /** re-tie parameters the exporter duplicated (see retieDuplicateParameters); default true */
  retie?: boolean
}

/**
 * An ONNX model as a trainable Atoll graph: initializers become parameters (floating-point ones are
 * trainable; BatchNorm running statistics and scalar constants are not), Constant nodes stay nodes,
 * scopes come from PyTorch's module paths, opsets 7–12 are upgraded to 13, and a cross-entropy
 * loss is appended.
 *
 * Throws OnnxDecodeError (bad bytes), OnnxExternalDataError, UnsupportedOpError (naming op and
 * node), UnsupportedOnnxFeatureError, InvalidOnnxModelError, and the graph validation errors.
 */
export function importOnnx(bytes: Uint8Array, options: ImportOnnxOptions = {}): Graph {
  const graph = importOnnxGraph(bytes, options)
  if (options.retie !== false) retieDuplicateParameters(graph)
  if (options.loss !== false) appendCrossEntropyLoss(graph, options.loss ?? {})
  graph.nodes = validateGraph(graph, {
    knownOps: options.supportedOps === 'any' ? 'any' : options.supportedOps,
  })
  return graph
}
