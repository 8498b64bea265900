/** ONNX TensorProto.DataType codes (Cast's `to`, tensor attributes) for the dtypes Atoll handles. */
import type { DType } from '../tensor.ts'

const CODES: Readonly<Record<DType, number>> = {
  float32: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
}

const BY_CODE = new Map<number, DType>(Object.entries(CODES).map(([d, c]) => [c, d as DType]))

/** The dtype of an ONNX data type code, or undefined for a type Atoll does not handle. */
export function dtypeOfOnnxCode(code: number): DType | undefined {
  return BY_CODE.get(code)
}

/** The ONNX data type code of a dtype. */
export function onnxCodeOfDtype(dtype: DType): number {
  return CODES[dtype]
}
