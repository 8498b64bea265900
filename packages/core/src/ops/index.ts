/**
 * Ops: the contract of supported ONNX operators, static shape/dtype inference, and per-op costs.
 *
 * API
 * - `OPS`, `OP_TYPES`, `isSupportedOp(opType, domain?)`, `arity(opType)`: every supported op with
 *   its inputs, outputs and attributes (kind, default). `readAttrs(node)` reads attributes with
 *   those defaults; `inputForm(node, 'axes', opset)` says whether the opset takes it as an input.
 * - `inferShapes(graph, bindings?) → Map<valueName, ValueInfo>`: dtype and shape of every value
 *   (graph inputs, initializers, node outputs). Nodes are visited in `graph.nodes` order, which must
 *   be topological. Symbolic dims stay strings, canonical polynomials in the input symbols
 *   ("batch", "batch*seq", "seq+1"; `dimArith`, `bindDims`); `bindings` ({ batch: 8 }) replaces
 *   symbols in the graph inputs so that every shape comes out static. A size known only at run time
 *   (NonZero, a Reshape target computed from data) gets a fresh symbol "<node>:<axis>". The graph
 *   is not modified: assign the result to `graph.valueInfo` if you want it stored.
 * - `inferTypes(graph, { bindings }) → { types, constants }`: the same, plus the values known before
 *   run time (non-trainable initializers, Constant nodes and the shape arithmetic folded from them).
 * - `opCost(node, types, parameters?) → { flops, paramBytes, outputBytes }` and
 *   `opCosts(graph, bindings?) → { nodes, total, byScope }`: FLOPs with a multiply-add counted as
 *   2 and elementwise ops as 1 per output element (full convention in costs.ts), for the scheduler
 *   and `atoll inspect`. Shapes must be static: bind symbolic dims.
 * - Errors (each names the node; `err.name` is the code): `UnsupportedOpError`, `BroadcastError`,
 *   `ShapeInferenceError` (also wrong input/output counts), `AttributeError`, `UndefinedValueError`;
 *   `KernelError` at run time. All extend `OpError`, which carries `node` and `opType`.
 *   `EinsumEquationError` (no node) comes from `planEinsum`.
 *
 * @example
 * ```ts
 * import { inferShapes } from '@atoll/core'
 * const types = inferShapes(graph, { batch: 4 })
 * types.get('logits') // { name: 'logits', dtype: 'float32', shape: [4, 10] }
 * ```
 */
export type { Attrs } from './attrs.ts'
export { inputForm, normAxis, readAttrs, takesAsInput } from './attrs.ts'
export type { AttributeKind, AttrSpec, OpSpec, OpType } from './contract.ts'
export { arity, isSupportedOp, OP_TYPES, OPS } from './contract.ts'
export { broadcastShapes } from './shape/elementwise.ts'
export { bindDims, dimArith, dimProduct, isStaticShape, showShape, symbolDim } from './dims.ts'
export {
  AttributeError,
  BroadcastError,
  KernelError,
  OpError,
  ShapeInferenceError,
  UndefinedValueError,
  UnsupportedOpError,
} from './errors.ts'
export { resolveSlice, type WindowGeometry, type WindowSpec, windowGeometry } from './geometry.ts'
export { type InferenceResult, type InferOptions, inferShapes, inferTypes } from './infer.ts'
export { dtypeOfOnnxCode, onnxCodeOfDtype } from './onnx-dtype.ts'
export { EinsumEquationError, type EinsumPlan, planEinsum } from './einsum.ts'
export { type GraphCosts, type NodeCost, type OpCost, opCost, opCosts } from './costs.ts'
