/**
 * Reverse-mode autodiff over the OP-DAG, emitting standard `ai.onnx` nodes only (onnxruntime has no
 * gradient ops), on graphs whose shapes are static once symbolic dims are bound.
 *
 * @example
 * ```ts
 * const bw = buildBackward(graph, 'loss', { bindings: { batch: 8 } })
 * bw.graph          // inputs: bw.saved + 'grad.loss'; outputs: 'grad.<param>' per parameter
 * const { graph: train, state } = buildTrainingGraph(graph, 'loss') // loss + every gradient in one graph
 * state // [{ state: 'bn1.running_mean', update: <output with its new value> }, …]: write back per forward
 * const evalGraph = inferenceGraph(graph) // BatchNorm normalises with the running statistics
 * ```
 */
export {
  type Backward,
  type BackwardOptions,
  buildBackward,
  gradName,
  MIN_AUTODIFF_OPSET,
} from './backward.ts'
export { decomposeTrainingOps } from './decompose.ts'
export { BACKWARD_PREFIX, GradEmitter } from './emitter.ts'
export {
  DynamicShapeError,
  GradientTargetError,
  NoGradientRuleError,
  UnsupportedGradientError,
} from './errors.ts'
export { type GradContext, type GradRule, NON_DIFFERENTIABLE } from './rule.ts'
export { planStash, type StashPlan, type StashPlanOptions } from './remat.ts'
export { GRADIENT_RULES, RULES_BY_OP } from './rules/index.ts'
export { inferenceGraph, isTrainingBatchNorm, type StateUpdate, stateUpdates } from './state.ts'
export { buildTrainingGraph, type TrainingGraph, type TrainingGraphOptions } from './training.ts'
export {
  buildStepLoop,
  FLAT_ROW,
  type FlatSlot,
  flatLayout,
  type StepLoop,
  type StepLoopOptions,
} from './step-loop.ts'
