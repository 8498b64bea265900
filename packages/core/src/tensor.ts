/** Element types Atoll handles; names follow onnxruntime's tensor type strings. */
import { AtollError } from './errors.ts'
export type DType = 'float32' | 'float16' | 'float64' | 'int64' | 'int32' | 'bool' | 'uint8'

/**
 * Storage per dtype. float16 is kept as raw IEEE half bits in a Uint16Array: every runtime
 * (onnxruntime-node, onnxruntime-web, safetensors, the wire format) can take those bits without a
 * conversion, whether or not the platform has Float16Array. bool is one byte per element (0 or 1).
 */
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

/** A dense tensor: a dtype, a static shape and a typed array of exactly product(shape) elements. */
export interface Tensor<D extends DType = DType> {
  dtype: D
  shape: readonly number[]
  data: StorageOf[D]
}

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

type StorageClass = {
  new (length: number): TensorData
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): TensorData
}

/** The typed-array class of each dtype (float16 is stored as its bits): built by length, or over bytes. */
export const STORAGE: Readonly<Record<DType, StorageClass>> = {
  float32: Float32Array,
  float16: Uint16Array,
  float64: Float64Array,
  int64: BigInt64Array,
  int32: Int32Array,
  bool: Uint8Array,
  uint8: Uint8Array,
}

export class TensorShapeError extends AtollError {}

export function isFloat(dtype: DType): dtype is 'float32' | 'float16' | 'float64' {
  return dtype === 'float32' || dtype === 'float16' || dtype === 'float64'
}

/** Number of elements of a shape; the empty shape is a scalar (1 element). */
export function numel(shape: readonly number[]): number {
  let n = 1
  for (const d of shape) n *= d
  return n
}

/** A tensor over `data` (not copied), checking that the storage type and length fit dtype and shape. */
export function tensor<D extends DType>(dtype: D, shape: readonly number[], data: StorageOf[D]): Tensor<D> {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new TensorShapeError(`bad dimension ${d} in shape [${shape}]`)
  }
  if (!(data instanceof STORAGE[dtype])) {
    throw new TensorShapeError(`${dtype} tensor needs a ${STORAGE[dtype].name}, got ${data.constructor.name}`)
  }
  if (data.length !== numel(shape)) {
    throw new TensorShapeError(`shape [${shape}] has ${numel(shape)} elements, data has ${data.length}`)
  }
  return { dtype, shape: [...shape], data }
}

/** A zero-filled tensor. */
export function zeros<D extends DType>(dtype: D, shape: readonly number[]): Tensor<D> {
  return tensor(dtype, shape, new STORAGE[dtype](numel(shape)) as StorageOf[D])
}

/** A float32 tensor from plain numbers (tests and small constants). */
export function float32(shape: readonly number[], values: ArrayLike<number>): Tensor<'float32'> {
  return tensor('float32', shape, Float32Array.from(values))
}

/** An int64 tensor from plain numbers (shapes, axes, indices). */
export function int64(shape: readonly number[], values: ArrayLike<number>): Tensor<'int64'> {
  return tensor('int64', shape, BigInt64Array.from(Array.from(values, (v) => BigInt(v))))
}

/** The raw bytes of a tensor's storage, viewed (not copied). */
export function tensorBytes(value: Tensor): Uint8Array {
  return new Uint8Array(value.data.buffer, value.data.byteOffset, value.data.byteLength)
}
