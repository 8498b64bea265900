/** AttributeProto ↔ Attribute, covering every attribute kind a standard operator can carry. */
import type { Attribute, Graph } from '../graph/types.ts'
import type { Tensor } from '../tensor.ts'
import { UnsupportedOnnxFeatureError } from './errors.ts'
import { ATTR, type AttributeP, type GraphP } from './proto.ts'
import { tensorFromProto, tensorToProto } from './tensors.ts'
import { ProtoWriter } from './writer.ts'

// `s` and `strings` are `bytes` in onnx.proto, so bytes that are not UTF-8 are legal there: they
// are decoded leniently (U+FFFD) rather than refused as ProtoReader.string refuses a `string` field
const utf8 = new TextDecoder('utf-8', { fatal: false })

/** The attribute's type; old exporters leave `type` unset, so it is inferred from the field set. */
function typeOf(a: AttributeP): number {
  if (a.type !== 0) return a.type
  if (a.t !== undefined) return ATTR.TENSOR
  if (a.g !== undefined) return ATTR.GRAPH
  if (a.floats.length > 0) return ATTR.FLOATS
  if (a.ints.length > 0) return ATTR.INTS
  if (a.strings.length > 0) return ATTR.STRINGS
  if (a.tensors.length > 0) return ATTR.TENSORS
  if (a.graphs.length > 0) return ATTR.GRAPHS
  if (a.s.length > 0) return ATTR.STRING
  return a.f !== 0 ? ATTR.FLOAT : ATTR.INT
}

export function attributeFromProto(
  proto: AttributeP,
  where: string,
  subgraph: (g: GraphP) => Graph,
): Attribute {
  if (proto.refAttrName !== '') {
    throw new UnsupportedOnnxFeatureError(
      `${where}: attribute '${proto.name}' refers to a function attribute`,
    )
  }
  const what = `${where}, attribute '${proto.name}'`
  switch (typeOf(proto)) {
    case ATTR.FLOAT:
      return { kind: 'float', value: proto.f }
    case ATTR.INT:
      return { kind: 'int', value: proto.i }
    case ATTR.STRING:
      return { kind: 'string', value: utf8.decode(proto.s) }
    case ATTR.TENSOR:
      return { kind: 'tensor', value: tensorFromProto(proto.t!, what) }
    case ATTR.GRAPH:
      return { kind: 'graph', value: subgraph(proto.g!) }
    case ATTR.FLOATS:
      return { kind: 'floats', value: proto.floats }
    case ATTR.INTS:
      return { kind: 'ints', value: proto.ints }
    case ATTR.STRINGS:
      return { kind: 'strings', value: proto.strings.map((s) => utf8.decode(s)) }
    case ATTR.TENSORS:
      return { kind: 'tensors', value: proto.tensors.map((t) => tensorFromProto(t, what)) }
    case ATTR.GRAPHS:
      return { kind: 'graphs', value: proto.graphs.map(subgraph) }
    default:
      // sparse tensors and type protos: no operator in the standard set Atoll runs takes them
      throw new UnsupportedOnnxFeatureError(
        `${what} has attribute type ${proto.type}, which Atoll does not handle`,
      )
  }
}

type ValueOf<K extends Attribute['kind']> = Extract<Attribute, { kind: K }>['value']
type WriteValue<V> = (w: ProtoWriter, field: number, value: V, graph: (g: Graph) => ProtoWriter) => void
const text: WriteValue<string> = (w, field, value) => w.string(field, value)
const tensor: WriteValue<Tensor> = (w, field, value) => w.message(field, tensorToProto('', value))
const subgraph: WriteValue<Graph> = (w, field, value, graph) => w.message(field, graph(value))
/** A list kind repeats its field, one element each (numbers are packed instead). */
const repeated =
  <V>(write: WriteValue<V>): WriteValue<V[]> =>
  (w, field, values, graph) => {
    for (const v of values) write(w, field, v, graph)
  }

/**
 * Each kind's AttributeType code and how its value is written. onnx.proto keeps a kind's value in
 * the field numbered one above its code (FLOAT = 1 in `f` = 2, … GRAPHS = 10 in `graphs` = 11).
 */
const KINDS: { [K in Attribute['kind']]: { code: number; write: WriteValue<ValueOf<K>> } } = {
  float: { code: ATTR.FLOAT, write: (w, field, v) => w.float(field, v) },
  int: { code: ATTR.INT, write: (w, field, v) => w.int(field, v) },
  string: { code: ATTR.STRING, write: text },
  tensor: { code: ATTR.TENSOR, write: tensor },
  graph: { code: ATTR.GRAPH, write: subgraph },
  floats: { code: ATTR.FLOATS, write: (w, field, v) => w.packedFloats(field, v) },
  ints: { code: ATTR.INTS, write: (w, field, v) => w.packedInts(field, v) },
  strings: { code: ATTR.STRINGS, write: repeated(text) },
  tensors: { code: ATTR.TENSORS, write: repeated(tensor) },
  graphs: { code: ATTR.GRAPHS, write: repeated(subgraph) },
}

export function attributeToProto(
  name: string,
  attribute: Attribute,
  graph: (g: Graph) => ProtoWriter,
): ProtoWriter {
  const w = new ProtoWriter()
  w.string(1, name)
  const { code, write } = KINDS[attribute.kind]
  w.int(20, code)
  // a.kind and a.value go together, which TypeScript does not follow through the table
  ;(write as WriteValue<Attribute['value']>)(w, code + 1, attribute.value, graph)
  return w
}
