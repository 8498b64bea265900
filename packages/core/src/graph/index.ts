export { type Attribute, attr, type Dim, type Graph, type Node, type ValueInfo } from './types.ts'
export { DEFAULT_OPSET, GraphBuilder, type NodeOptions } from './builder.ts'
export {
  DanglingValueError,
  DuplicateNameError,
  GraphCycleError,
  InvalidGraphError,
  UnknownOpError,
} from './errors.ts'
export { countParameters, parameterShape } from './params.ts'
export { producers, sortGraph, topologicalOrder, type ValidateOptions, validateGraph } from './validate.ts'
export {
  type GraphSummary,
  inputSymbols,
  type ScopeCost,
  type SummaryOptions,
  summarizeGraph,
} from './summary.ts'
export {
  type ConstantWeight,
  constantWeights,
  defaultTrainable,
  MIN_CONSTANT_WEIGHT_ELEMENTS,
  promoteConstantWeights,
  settingValues,
} from './weights.ts'
export { AUTOCAST_OPS, autocast, type ComputeDtype } from './autocast.ts'
