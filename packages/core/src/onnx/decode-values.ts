/** Decoder of TensorProto and ValueInfoProto (with its type and shape): the leaves of a model. */
import type { TensorP, ValueInfoP } from './proto.ts'
import { type ProtoReader, WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT } from './wire.ts'

export function decodeTensor(r: ProtoReader): TensorP {
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
  while (!r.done()) {
    const { field, wire } = r.tag()
    switch (field) {
      case 1:
        r.repeated(wire, WIRE_VARINT, (s) => s.int(), t.dims)
        break
      case 2:
        r.expect(wire, WIRE_VARINT, 'TensorProto.data_type')
        t.dataType = r.int()
        break
      case 4:
        r.repeated(wire, WIRE_I32, (s) => s.float(), t.floatData)
        break
      case 5:
        r.repeated(wire, WIRE_VARINT, (s) => s.int(), t.int32Data)
        break
      case 6:
        r.expect(wire, WIRE_LEN, 'TensorProto.string_data')
        t.stringData.push(r.bytesField())
        break
      case 7:
        r.repeated(wire, WIRE_VARINT, (s) => s.int64(), t.int64Data)
        break
      case 8:
        r.expect(wire, WIRE_LEN, 'TensorProto.name')
        t.name = r.string()
        break
      case 9:
        r.expect(wire, WIRE_LEN, 'TensorProto.raw_data')
        t.raw = r.bytesField()
        break
      case 10:
        r.repeated(wire, WIRE_I64, (s) => s.double(), t.doubleData)
        break
      case 11:
        r.repeated(wire, WIRE_VARINT, (s) => s.uint64(), t.uint64Data)
        break
      case 13:
        t.external = true
        r.skip(wire)
        break
      case 14:
        r.expect(wire, WIRE_VARINT, 'TensorProto.data_location')
        if (r.int() === 1) t.external = true
        break
      default:
        r.skip(wire)
    }
  }
  return t
}

export function decodeValueInfo(r: ProtoReader): ValueInfoP {
  const v: ValueInfoP = { name: '' }
  while (!r.done()) {
    const { field, wire } = r.tag()
    if (field === 1 && wire === WIRE_LEN) v.name = r.string()
    else if (field === 2 && wire === WIRE_LEN) decodeType(r.message(), v)
    else r.skip(wire)
  }
  return v
}

/** TypeProto: only tensor_type (field 1) is read; sequences, maps and optionals stay untyped. */
function decodeType(r: ProtoReader, v: ValueInfoP): void {
  while (!r.done()) {
    const { field, wire } = r.tag()
    if (field !== 1 || wire !== WIRE_LEN) {
      r.skip(wire)
      continue
    }
    const t = r.message()
    while (!t.done()) {
      const f = t.tag()
      if (f.field === 1 && f.wire === WIRE_VARINT) v.elemType = t.int()
      else if (f.field === 2 && f.wire === WIRE_LEN) v.shape = decodeShape(t.message())
      else t.skip(f.wire)
    }
  }
}

function decodeShape(r: ProtoReader): (number | string)[] {
  const dims: (number | string)[] = []
  while (!r.done()) {
    const { field, wire } = r.tag()
    if (field !== 1 || wire !== WIRE_LEN) {
      r.skip(wire)
      continue
    }
    const d = r.message()
    let dim: number | string = ''
    while (!d.done()) {
      const f = d.tag()
      if (f.field === 1 && f.wire === WIRE_VARINT) dim = d.int()
      else if (f.field === 2 && f.wire === WIRE_LEN) dim = d.string()
      else d.skip(f.wire)
    }
    dims.push(dim)
  }
  return dims
}
