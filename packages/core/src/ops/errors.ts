/**
 * Errors raised while inferring shapes or running ops. Each names the node and its op type so that a
 * user can find the culprit in a graph of thousands of nodes; `name` is the code to branch on.
 */
import { AtollError } from '../errors.ts'
import type { Node } from '../graph/types.ts'

/** Base of the per-node failures: carries the node's name and op type. */
export class OpError extends AtollError {
  readonly node: string
  readonly opType: string
  constructor(node: Pick<Node, 'name' | 'opType'>, message: string) {
    super(`${node.opType} node '${node.name}': ${message}`)
    this.node = node.name
    this.opType = node.opType
  }
}

/**
 * The op type is not in the contract (OPS), or `feature` of it is not (an attribute or input such as
 * an LSTM's `clip`, named in the message).
 */
export class UnsupportedOpError extends OpError {
  constructor(node: Pick<Node, 'name' | 'opType' | 'domain'>, feature?: string) {
    const where = node.domain ? ` in domain '${node.domain}'` : ''
    const what = feature === undefined ? '' : ` with ${feature}`
    super(node, `op type '${node.opType}'${where}${what} is not supported`)
  }
}

/** Two shapes that numpy-style broadcasting cannot combine. */
export class BroadcastError extends OpError {
  constructor(node: Pick<Node, 'name' | 'opType'>, message: string) {
    super(node, message)
  }
}

/** Input shapes, ranks or dtypes that the op does not accept (matmul dims, bad axis, …). */
export class ShapeInferenceError extends OpError {
  constructor(node: Pick<Node, 'name' | 'opType'>, message: string) {
    super(node, message)
  }
}

/** An attribute that is missing, of the wrong kind, or out of range. */
export class AttributeError extends OpError {
  constructor(node: Pick<Node, 'name' | 'opType'>, message: string) {
    super(node, message)
  }
}

/** A node reads a value that no earlier node, graph input or initializer defines. */
export class UndefinedValueError extends OpError {
  readonly value: string
  constructor(node: Pick<Node, 'name' | 'opType'>, value: string) {
    super(node, `input '${value}' is not defined by a graph input, an initializer or an earlier node`)
    this.value = value
  }
}

/** A value computed at run time that the op rejects (index out of range, bad shape tensor, …). */
export class KernelError extends OpError {
  constructor(node: Pick<Node, 'name' | 'opType'>, message: string) {
    super(node, message)
  }
}
