/** Decoder of TensorProto and ValueInfoProto (with its type and shape): the leaves of a model. */
import { each, flattened, type MessageFields, one, read, readMessage, scalars } from './fields.ts'
import type { TensorP, ValueInfoP } from './proto.ts'
import { type ProtoReader, WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT } from './wire.ts'

/** TensorProto.DataLocation EXTERNAL: the data is in another file. */
const EXTERNAL = 1

const TENSOR: MessageFields<TensorP> = {
  1: scalars('dims', 'dims', WIRE_VARINT, read.int),
  2: one('data_type', 'dataType', WIRE_VARINT, read.int),
  4: scalars('float_data', 'floatData', WIRE_I32, read.float),
  5: scalars('int32_data', 'int32Data', WIRE_VARINT, read.int),
  6: each('string_data', 'stringData', read.bytes),
  7: scalars('int64_data', 'int64Data', WIRE_VARINT, read.int64),
  8: one('name', 'name', WIRE_LEN, read.string),
  9: one('raw_data', 'raw', WIRE_LEN, read.bytes),
  10: scalars('double_data', 'doubleData', WIRE_I64, read.double),
  11: scalars('uint64_data', 'uint64Data', WIRE_VARINT, read.uint64),
  // external_data entries, or data_location: either way the weights are not in these bytes
  13: (r, t, wire, type) => {
    t.external = true
    r.skip(wire, type, 'external_data')
  },
  14: (r, t, wire, type) => {
    r.expect(wire, WIRE_VARINT, type, 'data_location')
    if (r.int() === EXTERNAL) t.external = true
  },
}

export function decodeTensor(reader: ProtoReader): TensorP {
  const t: TensorP = {
    name: '',
    dims: [],
    dataType: 0,
    floatData: [],
    int32Data: [],
    int64Data: [],
    doubleData: [],
    uint64Data: [],
    stringData: [],
    external: false,
  }
  return readMessage(reader, 'TensorProto', t, TENSOR)
}

/** TypeProto.Tensor: the element type and the shape, read straight into the ValueInfoP. */
const TENSOR_TYPE: MessageFields<ValueInfoP> = {
  1: one('elem_type', 'elemType', WIRE_VARINT, read.int),
  2: one(
    'shape',
    'shape',
    WIRE_LEN,
    (r) => readMessage(r.message(), 'TensorShapeProto', { dims: [] }, SHAPE).dims,
  ),
}
/** TypeProto: only tensor_type (field 1) is read; sequences, maps and optionals stay untyped. */
const TYPE: MessageFields<ValueInfoP> = { 1: flattened('tensor_type', 'TypeProto.Tensor', TENSOR_TYPE) }
const VALUE_INFO: MessageFields<ValueInfoP> = {
  1: one('name', 'name', WIRE_LEN, read.string),
  2: flattened('type', 'TypeProto', TYPE),
}

export function decodeValueInfo(reader: ProtoReader): ValueInfoP {
  return readMessage(reader, 'ValueInfoProto', { name: '' }, VALUE_INFO)
}

/** A dim is a size, a symbol, or '' when neither is given. */
interface Dim {
  value: number | string
}
const DIM: MessageFields<Dim> = {
  1: one('dim_value', 'value', WIRE_VARINT, read.int),
  2: one('dim_param', 'value', WIRE_LEN, read.string),
}
const SHAPE: MessageFields<{ dims: (number | string)[] }> = {
  1: each(
    'dim',
    'dims',
    (r) => readMessage(r.message(), 'TensorShapeProto.Dimension', { value: '' }, DIM).value,
  ),
}
