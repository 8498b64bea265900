/**
 * The subset of onnx.proto that Atoll reads, as plain objects (decoded by decode.ts). Field numbers
 * follow onnx/onnx.proto (IR version 10).
 */

export interface TensorP {
  name: string
  dims: number[]
  dataType: number
  raw?: Uint8Array
  floatData: number[]
  int32Data: number[]
  int64Data: bigint[]
  doubleData: number[]
  uint64Data: bigint[]
  stringData: Uint8Array[]
  /** data_location = EXTERNAL, or external_data entries present */
  external: boolean
}

/** AttributeProto.AttributeType codes. */
export const ATTR = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const

export interface AttributeP {
  name: string
  type: number
  f: number
  i: number
  s: Uint8Array
  t?: TensorP
  g?: GraphP
  floats: number[]
  ints: number[]
  strings: Uint8Array[]
  tensors: TensorP[]
  graphs: GraphP[]
  refAttrName: string
}

export interface EntryP {
  key: string
  value: string
}

export interface NodeP {
  name: string
  opType: string
  domain: string
  inputs: string[]
  outputs: string[]
  attributes: AttributeP[]
  metadata: EntryP[]
}

export interface ValueInfoP {
  name: string
  /** undefined when the type is not a tensor type or not given */
  elemType?: number
  /** undefined = unknown rank; a dim is a size, a symbol, or '' when neither is given */
  shape?: (number | string)[]
}

export interface GraphP {
  name: string
  nodes: NodeP[]
  initializers: TensorP[]
  sparseInitializers: number
  inputs: ValueInfoP[]
  outputs: ValueInfoP[]
  valueInfo: ValueInfoP[]
}

export interface OpsetP {
  domain: string
  version: number
}

export interface ModelP {
  irVersion: number
  opsetImport: OpsetP[]
  producerName: string
  producerVersion: string
  graph?: GraphP
  metadata: EntryP[]
  functions: number
}
