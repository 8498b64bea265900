/** exportOnnx: Graph → ONNX ModelProto bytes that onnxruntime loads. */
import type { Graph, Node, ValueInfo } from '../graph/types.ts'
import { onnxCodeOfDtype } from '../ops/onnx-dtype.ts'
import { attributeToProto } from './attributes.ts'
import { InvalidOnnxModelError } from './errors.ts'
import { tensorToProto } from './tensors.ts'
import { ProtoWriter } from './writer.ts'

/** The IR version each opset shipped with (onnx/helper.py VERSION_TABLE); runtimes check the pair. */
const IR_VERSION_OF_OPSET: readonly [number, number][] = [
  [21, 10],
  [19, 9],
  [15, 8],
  [13, 7],
  [9, 4],
  [1, 3],
]

/** Opset versions of the non-default domains Atoll emits nodes in. */
const DOMAIN_VERSIONS: Readonly<Record<string, number>> = { 'com.microsoft': 1, 'ai.onnx.ml': 3 }

export interface ExportOnnxOptions {
  producerName?: string
  /** also write `graph.valueInfo` (intermediate types); default true */
  valueInfo?: boolean
  /** extra metadata_props */
  metadata?: Record<string, string>
}

export function irVersionForOpset(opset: number): number {
  for (const [since, ir] of IR_VERSION_OF_OPSET) if (opset >= since) return ir
  return 3
}

export function exportOnnx(graph: Graph, options: ExportOnnxOptions = {}): Uint8Array {
  const model = new ProtoWriter()
  model.int(1, irVersionForOpset(graph.opset))
  model.string(2, options.producerName ?? 'atoll')
  model.string(3, '0.1.0')
  model.message(7, encodeGraph(graph, options.valueInfo ?? true))
  const opset = new ProtoWriter()
  opset.string(1, '')
  opset.int(2, graph.opset)
  model.message(8, opset)
  for (const domain of usedDomains(graph)) {
    const version = DOMAIN_VERSIONS[domain]
    if (version === undefined)
      throw new InvalidOnnxModelError(`no known opset version for domain '${domain}'`)
    const w = new ProtoWriter()
    w.string(1, domain)
    w.int(2, version)
    model.message(8, w)
  }
  for (const [key, value] of Object.entries(options.metadata ?? {})) model.message(14, entry(key, value))
  return model.finish()
}

function usedDomains(graph: Graph, out = new Set<string>()): Set<string> {
  for (const n of graph.nodes) {
    if (n.domain !== undefined && n.domain !== '' && n.domain !== 'ai.onnx') out.add(n.domain)
    for (const a of Object.values(n.attributes)) {
      if (a.kind === 'graph') usedDomains(a.value, out)
      if (a.kind === 'graphs') for (const g of a.value) usedDomains(g, out)
    }
  }
  return out
}

function entry(key: string, value: string): ProtoWriter {
  const w = new ProtoWriter()
  w.string(1, key)
  w.string(2, value)
  return w
}

function encodeGraph(graph: Graph, withValueInfo: boolean): ProtoWriter {
  const w = new ProtoWriter()
  for (const node of graph.nodes) w.message(1, encodeNode(node, withValueInfo))
  w.string(2, graph.name || 'graph')
  for (const [name, t] of graph.initializers) w.message(5, tensorToProto(name, t))
  for (const v of graph.inputs) w.message(11, encodeValueInfo(v))
  for (const v of graph.outputs) w.message(12, encodeValueInfo(v))
  if (withValueInfo) {
    // only values this graph's nodes compute: an entry left over from the graph a stage was cut
    // from may name what is here an input or an initializer, and would contradict its type
    const declared = new Set([...graph.inputs, ...graph.outputs].map((v) => v.name))
    const computed = new Set(graph.nodes.flatMap((n) => n.outputs))
    for (const v of graph.valueInfo.values())
      if (computed.has(v.name) && !declared.has(v.name)) w.message(13, encodeValueInfo(v))
  }
  return w
}

function encodeNode(node: Node, withValueInfo: boolean): ProtoWriter {
  const w = new ProtoWriter()
  for (const i of node.inputs) w.string(1, i)
  for (const o of node.outputs) w.string(2, o)
  w.string(3, node.name)
  w.string(4, node.opType)
  for (const [name, a] of Object.entries(node.attributes)) {
    w.message(
      5,
      attributeToProto(name, a, (g) => encodeGraph(g, withValueInfo)),
    )
  }
  if (node.domain !== undefined && node.domain !== '' && node.domain !== 'ai.onnx') w.string(7, node.domain)
  // the scope travels as node metadata, so an exported graph re-imports with its layers intact
  w.message(9, entry(SCOPE_KEY, node.scope))
  return w
}

/** Node metadata key carrying Atoll's scope through an ONNX round trip. */
export const SCOPE_KEY = 'atoll.scope'

function encodeValueInfo(v: ValueInfo): ProtoWriter {
  const tensorType = new ProtoWriter()
  tensorType.int(1, onnxCodeOfDtype(v.dtype))
  if (v.shape !== undefined) {
    const shape = new ProtoWriter()
    for (const d of v.shape) {
      const dim = new ProtoWriter()
      if (typeof d === 'number') dim.int(1, d)
      else dim.string(2, d)
      shape.message(1, dim)
    }
    tensorType.message(2, shape)
  }
  const type = new ProtoWriter()
  type.message(1, tensorType)
  const w = new ProtoWriter()
  w.string(1, v.name)
  w.message(2, type)
  return w
}
