/**
 * A hand-encoded ONNX model, y = x + x over float32[2], used to check that an execution provider
 * really initialises and computes before a backend is handed out. Encoded here rather than through
 * core's exporter so a backend probe depends on nothing but protobuf's wire format.
 */

const VARINT = 0
const LEN = 2

function varint(n: number): number[] {
  const out: number[] = []
  let v = n
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80)
    v = Math.floor(v / 128)
  }
  out.push(v)
  return out
}

function field(num: number, wire: number, payload: number[] | number): number[] {
  const key = varint((num << 3) | wire)
  if (wire === VARINT) return [...key, ...varint(payload as number)]
  const bytes = payload as number[]
  return [...key, ...varint(bytes.length), ...bytes]
}

const utf8 = (s: string) => Array.from(new TextEncoder().encode(s))

/** ValueInfoProto for a float32 tensor of shape [2]. */
function floatVector(name: string): number[] {
  const dim = field(1, LEN, field(1, VARINT, 2)) // TensorShapeProto.dim { dim_value: 2 }
  const tensorType = [...field(1, VARINT, 1), ...field(2, LEN, dim)] // elem_type FLOAT, shape
  return [...field(1, LEN, utf8(name)), ...field(2, LEN, field(1, LEN, tensorType))]
}

export const PROBE_INPUT = [1.5, -2]
export const PROBE_EXPECTED = [3, -4]

export function probeModel(): Uint8Array {
  const node = [
    ...field(1, LEN, utf8('x')),
    ...field(1, LEN, utf8('x')),
    ...field(2, LEN, utf8('y')),
    ...field(4, LEN, utf8('Add')),
  ]
  const graph = [
    ...field(1, LEN, node),
    ...field(2, LEN, utf8('probe')),
    ...field(11, LEN, floatVector('x')),
    ...field(12, LEN, floatVector('y')),
  ]
  const opset = field(2, VARINT, 17)
  return Uint8Array.from([...field(1, VARINT, 8), ...field(7, LEN, graph), ...field(8, LEN, opset)])
}
