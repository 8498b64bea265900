/** Small graph constructors for the ops and reference tests. */
import type { Attribute, Dim, Graph, Node } from '../src/graph.ts'
import type { DType, Tensor } from '../src/tensor.ts'

export interface GraphSpec {
  inputs?: Record<string, [DType, Dim[] | undefined]>
  initializers?: Record<string, Tensor>
  parameters?: string[]
  nodes: Node[]
  outputs: string[]
  opset?: number
}

/** A graph from a compact spec; output types are left to inference. */
export function graphOf(spec: GraphSpec): Graph {
  return {
    name: 'test',
    nodes: spec.nodes,
    inputs: Object.entries(spec.inputs ?? {}).map(([name, [dtype, shape]]) => ({ name, dtype, shape })),
    outputs: spec.outputs.map((name) => ({ name, dtype: 'float32' })),
    initializers: new Map(Object.entries(spec.initializers ?? {})),
    parameters: new Set(spec.parameters ?? []),
    valueInfo: new Map(),
    opset: spec.opset ?? 18,
  }
}

let counter = 0

/** A node; its name is the op type and a counter unless given. */
export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: Record<string, Attribute> = {},
  name = `${opType}_${counter++}`,
): Node {
  return { name, opType, inputs, outputs, attributes, scope: '' }
}
