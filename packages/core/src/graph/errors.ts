/** Typed graph-structure errors; each names the node (or value) at fault. */
import { AtollError } from '../errors.ts'

export class GraphCycleError extends AtollError {
  readonly nodeNames: string[]
  constructor(nodeNames: string[]) {
    super(`the graph has a cycle through node(s) ${nodeNames.map((n) => `'${n}'`).join(', ')}`)
    this.nodeNames = nodeNames
  }
}

/** A node reads a value that no node, graph input or initializer provides. */
export class DanglingValueError extends AtollError {
  readonly valueName: string
  readonly nodeName: string
  constructor(valueName: string, nodeName: string) {
    super(
      nodeName === ''
        ? `graph output '${valueName}' is produced by no node, input or initializer`
        : `node '${nodeName}' reads '${valueName}', which no node, graph input or initializer provides`,
    )
    this.valueName = valueName
    this.nodeName = nodeName
  }
}

/** Two nodes share a name, or a value name is defined twice (two producers, or input and initializer). */
export class DuplicateNameError extends AtollError {
  readonly duplicate: string
  readonly nodeName: string
  constructor(duplicate: string, nodeName: string, what: 'node' | 'value') {
    super(
      what === 'node'
        ? `two nodes are named '${duplicate}'`
        : `value '${duplicate}' (an output of node '${nodeName}') is defined more than once`,
    )
    this.duplicate = duplicate
    this.nodeName = nodeName
  }
}

export class UnknownOpError extends AtollError {
  readonly opType: string
  readonly nodeName: string
  constructor(opType: string, nodeName: string) {
    super(`node '${nodeName}' has op type '${opType}', which is not a supported op`)
    this.opType = opType
    this.nodeName = nodeName
  }
}

/** A graph-level declaration is inconsistent (a parameter that is no initializer, a bad opset). */
export class InvalidGraphError extends AtollError {}
