/** Decoder of the onnx.proto subset in proto.ts; fields Atoll does not use are skipped. */
import type { AttributeP, EntryP, GraphP, ModelP, NodeP, OpsetP } from './proto.ts'
import { decodeTensor, decodeValueInfo } from './decode-values.ts'
import { OnnxDecodeError } from './errors.ts'
import { counted, each, type MessageFields, one, read, readMessage, scalars } from './fields.ts'
import { ProtoReader, WIRE_I32, WIRE_LEN, WIRE_VARINT } from './wire.ts'

const MODEL: MessageFields<ModelP> = {
  1: one('ir_version', 'irVersion', WIRE_VARINT, read.int),
  2: one('producer_name', 'producerName', WIRE_LEN, read.string),
  3: one('producer_version', 'producerVersion', WIRE_LEN, read.string),
  7: one('graph', 'graph', WIRE_LEN, (r) => decodeGraph(r.message())),
  8: each('opset_import', 'opsetImport', (r) => decodeOpset(r.message())),
  14: each('metadata_props', 'metadata', (r) => decodeEntry(r.message())),
  25: counted('functions', 'functions'),
}

/** Decodes an ONNX ModelProto. */
export function decodeModel(bytes: Uint8Array): ModelP {
  const m: ModelP = {
    irVersion: 0,
    opsetImport: [],
    producerName: '',
    producerVersion: '',
    metadata: [],
    functions: 0,
  }
  return readMessage(new ProtoReader(bytes), 'ModelProto', m, MODEL)
}

const OPSET: MessageFields<OpsetP> = {
  1: one('domain', 'domain', WIRE_LEN, read.string),
  2: one('version', 'version', WIRE_VARINT, read.int),
}
const decodeOpset = (r: ProtoReader) =>
  readMessage(r, 'OperatorSetIdProto', { domain: '', version: 0 }, OPSET)

const ENTRY: MessageFields<EntryP> = {
  1: one('key', 'key', WIRE_LEN, read.string),
  2: one('value', 'value', WIRE_LEN, read.string),
}
const decodeEntry = (r: ProtoReader) =>
  readMessage(r, 'StringStringEntryProto', { key: '', value: '' }, ENTRY)

/** Subgraphs (If/Loop bodies) nest; a hostile file could nest them until the stack overflows. */
const MAX_GRAPH_DEPTH = 64
let graphDepth = 0

const GRAPH: MessageFields<GraphP> = {
  1: each('node', 'nodes', (r) => decodeNode(r.message())),
  2: one('name', 'name', WIRE_LEN, read.string),
  5: each('initializer', 'initializers', (r) => decodeTensor(r.message())),
  11: each('input', 'inputs', (r) => decodeValueInfo(r.message())),
  12: each('output', 'outputs', (r) => decodeValueInfo(r.message())),
  13: each('value_info', 'valueInfo', (r) => decodeValueInfo(r.message())),
  15: counted('sparse_initializer', 'sparseInitializers'),
}

export function decodeGraph(reader: ProtoReader): GraphP {
  if (graphDepth >= MAX_GRAPH_DEPTH)
    throw new OnnxDecodeError(`graphs nested more than ${MAX_GRAPH_DEPTH} deep`)
  graphDepth++
  try {
    const g: GraphP = {
      name: '',
      nodes: [],
      initializers: [],
      sparseInitializers: 0,
      inputs: [],
      outputs: [],
      valueInfo: [],
    }
    return readMessage(reader, 'GraphProto', g, GRAPH)
  } finally {
    graphDepth--
  }
}

const NODE: MessageFields<NodeP> = {
  1: each('input', 'inputs', read.string),
  2: each('output', 'outputs', read.string),
  3: one('name', 'name', WIRE_LEN, read.string),
  4: one('op_type', 'opType', WIRE_LEN, read.string),
  5: each('attribute', 'attributes', (r) => decodeAttribute(r.message())),
  7: one('domain', 'domain', WIRE_LEN, read.string),
  9: each('metadata_props', 'metadata', (r) => decodeEntry(r.message())),
}

function decodeNode(r: ProtoReader): NodeP {
  const n: NodeP = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: [], metadata: [] }
  return readMessage(r, 'NodeProto', n, NODE)
}

const ATTRIBUTE: MessageFields<AttributeP> = {
  1: one('name', 'name', WIRE_LEN, read.string),
  2: one('f', 'f', WIRE_I32, read.float),
  3: one('i', 'i', WIRE_VARINT, read.int),
  4: one('s', 's', WIRE_LEN, read.bytes),
  5: one('t', 't', WIRE_LEN, (r) => decodeTensor(r.message())),
  6: one('g', 'g', WIRE_LEN, (r) => decodeGraph(r.message())),
  7: scalars('floats', 'floats', WIRE_I32, read.float),
  8: scalars('ints', 'ints', WIRE_VARINT, read.int),
  9: each('strings', 'strings', read.bytes),
  10: each('tensors', 'tensors', (r) => decodeTensor(r.message())),
  11: each('graphs', 'graphs', (r) => decodeGraph(r.message())),
  20: one('type', 'type', WIRE_VARINT, read.int),
  21: one('ref_attr_name', 'refAttrName', WIRE_LEN, read.string),
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
  return readMessage(r, 'AttributeProto', a, ATTRIBUTE)
}
