/**
 * Errors raised while inferring shapes or running ops. Each names the node and its op type so that a
 * user can find the culprit in a graph of thousands of nodes; `name` is the code to branch on.
 */
import type { Node } from '../graph.ts'

/** Base of the per-node failures: carries the node's name and op type. */
export class OpError extends Error {
  static override name = 'OpError'
  readonly node: string
  readonly opType: string
  constructor(node: Pick<Node, 'name' | 'opType'>, message: string) {
    super(`${node.opType} node '${node.name}': ${message}`)
    this.name = 'OpError'
    this.node = node.name
    this.opType = node.opType
  }
}

/** The op type is not in the contract (OPS). */
export class UnsupportedOpError extends OpError {
  static override name = 'UnsupportedOpError'
  constructor(node: Pick<Node, 'name' | 'opType' | 'domain'>) {
    const where = node.domain ? ` in domain '${node.domain}'` : ''
    super(node, `op type '${node.opType}'${where} is not supported`)
    this.name = 'UnsupportedOpError'
  }
}

/** Two shapes that numpy-style broadcasting cannot combine. */
export class BroadcastError extends OpError {
  static override name = 'BroadcastError'
  constructor(node: Pick<Node, 'name' | 'opType'>, message: string) {
    super(node, message)
    this.name = 'BroadcastError'
  }
}

/** Input shapes, ranks or dtypes that the op does not accept (matmul dims, bad axis, …). */
export class ShapeInferenceError extends OpError {
  static override name = 'ShapeInferenceError'
  constructor(node: Pick<Node, 'name' | 'opType'>, message: string) {
    super(node, message)
    this.name = 'ShapeInferenceError'
  }
}

/** An attribute that is missing, of the wrong kind, or out of range. */
export class AttributeError extends OpError {
  static override name = 'AttributeError'
  constructor(node: Pick<Node, 'name' | 'opType'>, message: string) {
    super(node, message)
    this.name = 'AttributeError'
  }
}

/** A node reads a value that no earlier node, graph input or initializer defines. */
export class UndefinedValueError extends OpError {
  static override name = 'UndefinedValueError'
  readonly value: string
  constructor(node: Pick<Node, 'name' | 'opType'>, value: string) {
    super(node, `input '${value}' is not defined by a graph input, an initializer or an earlier node`)
    this.name = 'UndefinedValueError'
    this.value = value
  }
}

/** A value computed at run time that the op rejects (index out of range, bad shape tensor, …). */
export class KernelError extends OpError {
  static override name = 'KernelError'
  constructor(node: Pick<Node, 'name' | 'opType'>, message: string) {
    super(node, message)
    this.name = 'KernelError'
  }
}
