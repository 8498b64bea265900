/**
 * @atoll/core — tensors, the OP-DAG IR, the model builder, ONNX import/export, shape inference,
 * reverse-mode autodiff and partitioning. Browser-safe: no `node:*`, no native code.
 *
 * @example
 * ```ts
 * import { float32, numel } from '@atoll/core'
 * const w = float32([2, 2], [1, 2, 3, 4])
 * numel(w.shape) // 4
 *
 * import { countParameters, exportOnnx, gpt2, importOnnx } from '@atoll/core'
 * const { graph } = gpt2({ config: 'tiny' }) // builder model, loss on input `targets` appended
 * const bytes = exportOnnx(graph)             // onnxruntime loads these
 * const same = importOnnx(bytes, { loss: false }) // it has one already
 * const model = importOnnx(torchBytes)        // a torch.onnx.export file: appends the loss
 * countParameters(gpt2({ config: '124M', shapesOnly: true }).graph) // 124_439_808
 * ```
 */
export { AtollError } from './errors.ts'
// the one door from untrusted data to typed values (zod/mini schemas; see docs/validation.md)
export {
  describeValue,
  type FieldProblem,
  type ParseOptions,
  type ProblemError,
  parseJson,
  parseWith,
} from './schema.ts'
export type { DType, StorageOf, Tensor, TensorData } from './tensor.ts'
export {
  BYTES_PER_ELEMENT,
  DTYPES,
  float32,
  int64,
  isFloat,
  numel,
  STORAGE,
  TensorShapeError,
  tensor,
  tensorBytes,
  zeros,
} from './tensor.ts'
// ops: contract, shape inference, costs (see src/ops/index.ts)
export * from './ops/index.ts'
// graph: the IR's types, validation, topological order, GraphBuilder (see src/graph/index.ts)
export * from './graph/index.ts'
// ONNX import/export (see src/onnx/index.ts)
export * from './onnx/index.ts'
// LEB128 varints: WebAssembly (simd) and sparse index coding (compress) share these with ONNX I/O
export {
  MAX_VARINT32_BYTES,
  MAX_VARINT64_BYTES,
  readVarint,
  VarintError,
  writeSignedVarint,
  writeVarint,
} from './varint.ts'
// safetensors read/write
export { readSafetensors, SafetensorsError, type SafetensorsFile, writeSafetensors } from './safetensors.ts'
// model builder layers and losses, model zoo (see src/builder/index.ts, src/zoo/index.ts)
export * from './builder/index.ts'
export * from './zoo/index.ts'
// reference interpreter (see src/reference/index.ts)
export * from './reference/index.ts'
// reverse-mode autodiff: buildBackward, buildTrainingGraph, gradient rules (see src/autodiff/index.ts)
export * from './autodiff/index.ts'
// partitioning into pipeline stages: partitionGraph (see src/partition/index.ts)
export * from './partition/index.ts'
