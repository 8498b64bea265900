/**
 * Failures of building a backward graph. Each names the node (and op type) or the value at fault so
 * that a user can find it in a graph of thousands of nodes; `name` is the code to branch on.
 */
import { AtollError } from '../errors.ts'
import type { Node } from '../graph/types.ts'
import { RECURRENT_OPS } from '../ops/recurrent.ts'

/** The op has no gradient rule and is not known to be non-differentiable. */
export class NoGradientRuleError extends AtollError {
  constructor(node: Pick<Node, 'name' | 'opType'>) {
    // recurrent ops are differentiated unrolled: the caller skipped the step that does it
    const hint = RECURRENT_OPS.has(node.opType)
      ? ' (differentiate the graph decomposeTrainingOps returns: it unrolls the op into ones that have)'
      : ''
    super(`${node.opType} node '${node.name}': no gradient rule for op type '${node.opType}'${hint}`)
  }
}

/** A rule cannot differentiate this particular use of its op (an attribute or input it does not handle). */
export class UnsupportedGradientError extends AtollError {
  constructor(node: Pick<Node, 'name' | 'opType'>, message: string) {
    super(`${node.opType} node '${node.name}': ${message}`)
  }
}

/** Autodiff needs the static shape and dtype of every value it touches; this one has none. */
export class DynamicShapeError extends AtollError {
  constructor(value: string, found: string) {
    super(`value '${value}' needs a static shape for autodiff (bind symbolic dims first), found ${found}`)
  }
}

/** A name given to buildBackward (loss, seed, input) is not a value of the graph, or has the wrong kind. */
export class GradientTargetError extends AtollError {}
