/**
 * Element types on the wire. The names are @atoll/core's (onnxruntime's tensor type strings); the
 * list is repeated here rather than imported because compress sits beside core, not above it.
 */
export type DType = 'float32' | 'float16' | 'float64' | 'int64' | 'int32' | 'bool' | 'uint8'

export const DTYPES: readonly DType[] = ['float32', 'float16', 'float64', 'int64', 'int32', 'bool', 'uint8']

export const BYTES_PER_ELEMENT: Readonly<Record<DType, number>> = {
  float32: 4,
  float16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  bool: 1,
  uint8: 1,
}

/** Storage per dtype, as in core: float16 is raw IEEE half bits, bool one byte (0 or 1). */
export interface StorageOf {
  float32: Float32Array
  float16: Uint16Array
  float64: Float64Array
  int64: BigInt64Array
  int32: Int32Array
  bool: Uint8Array
  uint8: Uint8Array
}

export type TensorData = StorageOf[DType]

type StorageCtor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TensorData
  new (length: number): TensorData
}

export const STORAGE: Readonly<Record<DType, StorageCtor>> = {
  float32: Float32Array,
  float16: Uint16Array,
  float64: Float64Array,
  int64: BigInt64Array,
  int32: Int32Array,
  bool: Uint8Array,
  uint8: Uint8Array,
}

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && (DTYPES as readonly string[]).includes(value)
}

/** The bytes of a typed array, viewed (not copied). */
export function bytesOf(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}
