/** Decoder of the onnx.proto subset in proto.ts; fields Atoll does not use are skipped. */
import type { AttributeP, EntryP, GraphP, ModelP, NodeP, OpsetP } from './proto.ts'
import { decodeTensor, decodeValueInfo } from './decode-values.ts'
import { OnnxDecodeError } from './errors.ts'
import { ProtoReader, WIRE_I32, WIRE_LEN, WIRE_VARINT } from './wire.ts'

/** Decodes an ONNX ModelProto. */
export function decodeModel(bytes: Uint8Array): ModelP {
  const r = new ProtoReader(bytes)
  const m: ModelP = {
    irVersion: 0,
    opsetImport: [],
    producerName: '',
    producerVersion: '',
    metadata: [],
    functions: 0,
  }
  while (!r.done()) {
    const { field, wire } = r.tag()
    if (field === 1 && wire === WIRE_VARINT) m.irVersion = r.int()
    else if (field === 8 && wire === WIRE_LEN) m.opsetImport.push(decodeOpset(r.message()))
    else if (field === 2 && wire === WIRE_LEN) m.producerName = r.string()
    else if (field === 3 && wire === WIRE_LEN) m.producerVersion = r.string()
    else if (field === 7 && wire === WIRE_LEN) m.graph = decodeGraph(r.message())
    else if (field === 14 && wire === WIRE_LEN) m.metadata.push(decodeEntry(r.message()))
    else if (field === 25 && wire === WIRE_LEN) {
      m.functions++
      r.skip(wire)
    } else r.skip(wire)
  }
  return m
}

function decodeOpset(r: ProtoReader): OpsetP {
  const o: OpsetP = { domain: '', version: 0 }
  while (!r.done()) {
    const { field, wire } = r.tag()
    if (field === 1 && wire === WIRE_LEN) o.domain = r.string()
    else if (field === 2 && wire === WIRE_VARINT) o.version = r.int()
    else r.skip(wire)
  }
  return o
}

function decodeEntry(r: ProtoReader): EntryP {
  const e: EntryP = { key: '', value: '' }
  while (!r.done()) {
    const { field, wire } = r.tag()
    if (field === 1 && wire === WIRE_LEN) e.key = r.string()
    else if (field === 2 && wire === WIRE_LEN) e.value = r.string()
    else r.skip(wire)
  }
  return e
}

/** Subgraphs (If/Loop bodies) nest; a hostile file could nest them until the stack overflows. */
const MAX_GRAPH_DEPTH = 64
let graphDepth = 0

export function decodeGraph(r: ProtoReader): GraphP {
  if (graphDepth >= MAX_GRAPH_DEPTH)
    throw new OnnxDecodeError(`graphs nested more than ${MAX_GRAPH_DEPTH} deep`)
  graphDepth++
  try {
    return decodeGraphFields(r)
  } finally {
    graphDepth--
  }
}

function decodeGraphFields(r: ProtoReader): GraphP {
  const g: GraphP = {
    name: '',
    nodes: [],
    initializers: [],
    sparseInitializers: 0,
    inputs: [],
    outputs: [],
    valueInfo: [],
  }
  while (!r.done()) {
    const { field, wire } = r.tag()
    if (field === 1 && wire === WIRE_LEN) g.nodes.push(decodeNode(r.message()))
    else if (field === 2 && wire === WIRE_LEN) g.name = r.string()
    else if (field === 5 && wire === WIRE_LEN) g.initializers.push(decodeTensor(r.message()))
    else if (field === 11 && wire === WIRE_LEN) g.inputs.push(decodeValueInfo(r.message()))
    else if (field === 12 && wire === WIRE_LEN) g.outputs.push(decodeValueInfo(r.message()))
    else if (field === 13 && wire === WIRE_LEN) g.valueInfo.push(decodeValueInfo(r.message()))
    else if (field === 15 && wire === WIRE_LEN) {
      g.sparseInitializers++
      r.skip(wire)
    } else r.skip(wire)
  }
  return g
}

function decodeNode(r: ProtoReader): NodeP {
  const n: NodeP = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: [], metadata: [] }
  while (!r.done()) {
    const { field, wire } = r.tag()
    if (field === 1 && wire === WIRE_LEN) n.inputs.push(r.string())
    else if (field === 2 && wire === WIRE_LEN) n.outputs.push(r.string())
    else if (field === 3 && wire === WIRE_LEN) n.name = r.string()
    else if (field === 4 && wire === WIRE_LEN) n.opType = r.string()
    else if (field === 7 && wire === WIRE_LEN) n.domain = r.string()
    else if (field === 5 && wire === WIRE_LEN) n.attributes.push(decodeAttribute(r.message()))
    else if (field === 9 && wire === WIRE_LEN) n.metadata.push(decodeEntry(r.message()))
    else r.skip(wire)
  }
  return n
}

function decodeAttribute(r: ProtoReader): AttributeP {
  const a: AttributeP = {
    name: '',
    type: 0,
    f: 0,
    i: 0,
    s: new Uint8Array(0),
    floats: [],
    ints: [],
    strings: [],
    tensors: [],
    graphs: [],
    refAttrName: '',
  }
  while (!r.done()) {
    const { field, wire } = r.tag()
    switch (field) {
      case 1:
        r.expect(wire, WIRE_LEN, 'AttributeProto.name')
        a.name = r.string()
        break
      case 20:
        r.expect(wire, WIRE_VARINT, 'AttributeProto.type')
        a.type = r.int()
        break
      case 2:
        r.expect(wire, WIRE_I32, 'AttributeProto.f')
        a.f = r.float()
        break
      case 3:
        r.expect(wire, WIRE_VARINT, 'AttributeProto.i')
        a.i = r.int()
        break
      case 4:
        r.expect(wire, WIRE_LEN, 'AttributeProto.s')
        a.s = r.bytesField()
        break
      case 5:
        r.expect(wire, WIRE_LEN, 'AttributeProto.t')
        a.t = decodeTensor(r.message())
        break
      case 6:
        r.expect(wire, WIRE_LEN, 'AttributeProto.g')
        a.g = decodeGraph(r.message())
        break
      case 7:
        r.repeated(wire, WIRE_I32, (s) => s.float(), a.floats)
        break
      case 8:
        r.repeated(wire, WIRE_VARINT, (s) => s.int(), a.ints)
        break
      case 9:
        r.expect(wire, WIRE_LEN, 'AttributeProto.strings')
        a.strings.push(r.bytesField())
        break
      case 10:
        r.expect(wire, WIRE_LEN, 'AttributeProto.tensors')
        a.tensors.push(decodeTensor(r.message()))
        break
      case 11:
        r.expect(wire, WIRE_LEN, 'AttributeProto.graphs')
        a.graphs.push(decodeGraph(r.message()))
        break
      case 21:
        r.expect(wire, WIRE_LEN, 'AttributeProto.ref_attr_name')
        a.refAttrName = r.string()
        break
      default:
        r.skip(wire)
    }
  }
  return a
}
