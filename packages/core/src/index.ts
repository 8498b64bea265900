/**
 * @atoll/core — tensors, the OP-DAG IR, the model builder, ONNX import/export, shape inference,
 * reverse-mode autodiff and partitioning. Browser-safe: no `node:*`, no native code.
 *
 * @example
 * ```ts
 * import { float32, numel } from '@atoll/core'
 * const w = float32([2, 2], [1, 2, 3, 4])
 * numel(w.shape) // 4
 * ```
 */
export type { Attribute, Dim, Graph, Node, ValueInfo } from './graph.ts'
export { attr } from './graph.ts'
export type { DType, StorageOf, Tensor, TensorData } from './tensor.ts'
export {
  BYTES_PER_ELEMENT,
  DTYPES,
  float32,
  int64,
  isFloat,
  numel,
  TensorShapeError,
  tensor,
  tensorBytes,
  zeros,
} from './tensor.ts'
// ops: contract, shape inference, costs (see src/ops/index.ts)
export * from './ops/index.ts'
// reference interpreter (see src/reference/index.ts)
export * from './reference/index.ts'
