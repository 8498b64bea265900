/** TensorProto ↔ Tensor. Data is read from raw_data or the typed fields; it is always written as raw_data. */
import { dtypeOfOnnxCode, onnxCodeOfDtype } from '../ops/onnx-dtype.ts'
import {
  BYTES_PER_ELEMENT,
  type DType,
  numel,
  STORAGE,
  type StorageOf,
  type Tensor,
  tensor,
  zeros,
} from '../tensor.ts'
import { InvalidOnnxModelError, OnnxExternalDataError, UnsupportedOnnxFeatureError } from './errors.ts'
import type { TensorP } from './proto.ts'
import { ProtoWriter } from './writer.ts'

// Typed arrays use the platform's byte order and ONNX raw_data is little-endian; every platform a
// browser or Node runs on is little-endian, so a view is a correct decoding. Checked, not assumed.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

export function tensorFromProto(proto: TensorP, what = `tensor '${proto.name}'`): Tensor {
  if (proto.external) throw new OnnxExternalDataError(proto.name)
  const dtype = dtypeOfOnnxCode(proto.dataType)
  if (dtype === undefined) {
    throw new UnsupportedOnnxFeatureError(
      `${what} has ONNX data type ${proto.dataType}, which Atoll does not handle`,
    )
  }
  for (const d of proto.dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new InvalidOnnxModelError(`${what} has bad dimension ${d}`)
  }
  const n = numel(proto.dims)
  if (proto.raw !== undefined) return fromRaw(proto.raw, dtype, proto.dims, what)
  // checked before allocating: a hostile shape must not make us allocate gigabytes
  const src = typedSource(proto, dtype)
  if (src.length !== n) {
    throw new InvalidOnnxModelError(
      `${what}: shape [${proto.dims}] needs ${n} values, the tensor holds ${src.length}`,
    )
  }
  const out = zeros(dtype, proto.dims)
  const data = out.data as StorageOf[DType]
  if (data instanceof BigInt64Array) data.set(src as bigint[])
  else (data as Float64Array).set(src as number[])
  return out
}

function typedSource(t: TensorP, dtype: DType): number[] | bigint[] {
  switch (dtype) {
    case 'float32':
      return t.floatData
    case 'float64':
      return t.doubleData
    case 'int64':
      return t.int64Data
    default:
      // int32_data holds int32, uint8, bool, and float16 (as its 16 raw bits)
      return t.int32Data
  }
}

function fromRaw(raw: Uint8Array, dtype: DType, dims: number[], what: string): Tensor {
  if (!LITTLE_ENDIAN) throw new UnsupportedOnnxFeatureError('ONNX raw data needs a little-endian platform')
  const bytes = numel(dims) * BYTES_PER_ELEMENT[dtype]
  if (raw.length !== bytes) {
    throw new InvalidOnnxModelError(
      `${what}: shape [${dims}] of ${dtype} needs ${bytes} bytes, raw_data has ${raw.length}`,
    )
  }
  // copied, not viewed: raw_data sits at an arbitrary (unaligned) offset inside the model's bytes
  const copy = new Uint8Array(raw).buffer // not raw.slice(): a Node Buffer's slice is a view
  return tensor(dtype, dims, new STORAGE[dtype](copy) as StorageOf[DType])
}

/** Encodes a TensorProto with raw little-endian data. */
export function tensorToProto(name: string, tensor: Tensor): ProtoWriter {
  const w = new ProtoWriter()
  w.packedInts(1, tensor.shape)
  w.int(2, onnxCodeOfDtype(tensor.dtype))
  if (name !== '') w.string(8, name)
  w.bytes(9, new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength))
  return w
}

/** A scalar or small tensor of plain numbers, used for Constant attributes like value_float. */
export function scalarTensor(dtype: 'float32' | 'int64', values: number[], shape: number[]): Tensor {
  return dtype === 'float32'
    ? tensor('float32', shape, Float32Array.from(values))
    : tensor(
        'int64',
        shape,
        BigInt64Array.from(values, (v) => BigInt(v)),
      )
}
