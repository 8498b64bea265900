/** AttributeProto ↔ Attribute, covering every attribute kind a standard operator can carry. */
import type { Attribute, Graph } from '../graph.ts'
import { UnsupportedOnnxFeatureError } from './errors.ts'
import { ATTR, type AttributeP, type GraphP } from './proto.ts'
import { tensorFromProto, tensorToProto } from './tensors.ts'
import { ProtoWriter } from './writer.ts'

const utf8 = new TextDecoder('utf-8', { fatal: false })
const utf8Encoder = new TextEncoder()

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

export function attributeFromProto(a: AttributeP, where: string, subgraph: (g: GraphP) => Graph): Attribute {
  if (a.refAttrName !== '') {
    throw new UnsupportedOnnxFeatureError(`${where}: attribute '${a.name}' refers to a function attribute`)
  }
  const what = `${where}, attribute '${a.name}'`
  switch (typeOf(a)) {
    case ATTR.FLOAT:
      return { kind: 'float', value: a.f }
    case ATTR.INT:
      return { kind: 'int', value: a.i }
    case ATTR.STRING:
      return { kind: 'string', value: utf8.decode(a.s) }
    case ATTR.TENSOR:
      return { kind: 'tensor', value: tensorFromProto(a.t!, what) }
    case ATTR.GRAPH:
      return { kind: 'graph', value: subgraph(a.g!) }
    case ATTR.FLOATS:
      return { kind: 'floats', value: a.floats }
    case ATTR.INTS:
      return { kind: 'ints', value: a.ints }
    case ATTR.STRINGS:
      return { kind: 'strings', value: a.strings.map((s) => utf8.decode(s)) }
    case ATTR.TENSORS:
      return { kind: 'tensors', value: a.tensors.map((t) => tensorFromProto(t, what)) }
    case ATTR.GRAPHS:
      return { kind: 'graphs', value: a.graphs.map(subgraph) }
    default:
      // sparse tensors and type protos: no operator in the standard set Atoll runs takes them
      throw new UnsupportedOnnxFeatureError(
        `${what} has attribute type ${a.type}, which Atoll does not handle`,
      )
  }
}

const TYPE_CODE: Record<Attribute['kind'], number> = {
  float: ATTR.FLOAT,
  int: ATTR.INT,
  string: ATTR.STRING,
  tensor: ATTR.TENSOR,
  graph: ATTR.GRAPH,
  floats: ATTR.FLOATS,
  ints: ATTR.INTS,
  strings: ATTR.STRINGS,
  tensors: ATTR.TENSORS,
  graphs: ATTR.GRAPHS,
}

export function attributeToProto(name: string, a: Attribute, graph: (g: Graph) => ProtoWriter): ProtoWriter {
  const w = new ProtoWriter()
  w.string(1, name)
  w.int(20, TYPE_CODE[a.kind])
  switch (a.kind) {
    case 'float':
      w.float(2, a.value)
      break
    case 'int':
      w.int(3, a.value)
      break
    case 'string':
      w.bytes(4, utf8Encoder.encode(a.value))
      break
    case 'tensor':
      w.message(5, tensorToProto('', a.value))
      break
    case 'graph':
      w.message(6, graph(a.value))
      break
    case 'floats':
      w.packedFloats(7, a.value)
      break
    case 'ints':
      w.packedInts(8, a.value)
      break
    case 'strings':
      for (const s of a.value) w.bytes(9, utf8Encoder.encode(s))
      break
    case 'tensors':
      for (const t of a.value) w.message(10, tensorToProto('', t))
      break
    case 'graphs':
      for (const g of a.value) w.message(11, graph(g))
      break
  }
  return w
}
