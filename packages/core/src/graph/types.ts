import type { DType, Tensor } from '../tensor.ts'

/** A dimension: a size, or a symbol (`batch`, `seq`) bound when the graph is run. */
export type Dim = number | string

/** A named value's type: its dtype and (static or symbolic) shape; `shape` undefined = unknown rank. */
export interface ValueInfo {
  name: string
  dtype: DType
  shape?: Dim[]
}

/** ONNX attribute values, tagged so that export writes the right kind (1 as INT vs 1.0 as FLOAT). */
export type Attribute =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: Tensor }
  | { kind: 'graph'; value: Graph }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'tensors'; value: Tensor[] }
  | { kind: 'graphs'; value: Graph[] }

/** One ONNX operator and the layer (`h.3.attn`) it belongs to. */
export interface Node {
  /** unique within the graph */
  name: string
  opType: string
  /** '' or 'ai.onnx' for the standard operator set */
  domain?: string
  /** value names; '' marks an omitted optional input */
  inputs: string[]
  outputs: string[]
  attributes: Record<string, Attribute>
  /** dotted layer path grouping nodes into layers; '' when unknown */
  scope: string
}

/**
 * The OP-DAG. Values are named; a value is produced by exactly one node, or is a graph input or an
 * initializer. Initializers listed in `parameters` are trainable.
 */
export interface Graph {
  name: string
  /** in a topological order once validated */
  nodes: Node[]
  inputs: ValueInfo[]
  outputs: ValueInfo[]
  initializers: Map<string, Tensor>
  /** names of the trainable initializers (floating-point weights; not e.g. BatchNorm running stats) */
  parameters: Set<string>
  /** inferred or declared types of intermediate values */
  valueInfo: Map<string, ValueInfo>
  /** ONNX opset of the default domain */
  opset: number
}

/** Attribute constructors, so builders write `attr.int(1)` rather than tagged literals. */
export const attr = {
  int: (value: number): Attribute => ({ kind: 'int', value }),
  float: (value: number): Attribute => ({ kind: 'float', value }),
  string: (value: string): Attribute => ({ kind: 'string', value }),
  tensor: (value: Tensor): Attribute => ({ kind: 'tensor', value }),
  ints: (value: number[]): Attribute => ({ kind: 'ints', value }),
  floats: (value: number[]): Attribute => ({ kind: 'floats', value }),
  strings: (value: string[]): Attribute => ({ kind: 'strings', value }),
}
