/** What a shape function sees of its node, and what it returns. */
import { AtollError } from '../../errors.ts'
import type { Dim, Node } from '../../graph/types.ts'
import type { DType, Tensor } from '../../tensor.ts'
import type { Attrs } from '../attrs.ts'

/** One inferred output: dtype and shape (undefined = unknown rank). */
export interface OutputType {
  dtype: DType
  shape?: Dim[]
  /** the output's value when the shape function knows it (Constant) */
  value?: Tensor
  /** the elements of a rank-0/1 integer output when known, possibly symbolic (Shape) */
  dims?: Dim[]
}

export interface ShapeContext {
  node: Node
  opset: number
  attrs: Attrs
  /** number of inputs as written in the node (omitted optional ones count, as '') */
  inputCount: number
  /** whether input i is present (not omitted and within inputCount) */
  has(i: number): boolean
  dtype(i: number): DType
  /** the shape of input i; an unknown rank aborts this node's inference (its outputs become unknown) */
  shape(i: number): Dim[]
  /** the value of input i when known before run time (initializer, Constant, folded) */
  value(i: number): Tensor | undefined
  /** the elements of a rank-0/1 integer input when known, possibly symbolic (Shape → Gather → Concat) */
  dims(i: number): Dim[] | undefined
  /** throws a ShapeInferenceError naming the node */
  fail(message: string): never
}

export type ShapeFn = (ctx: ShapeContext) => OutputType[]

/**
 * Thrown by ctx.shape() for an input of unknown rank, or for a shape-determining input known only at
 * run time; the driver turns it into outputs of unknown shape.
 */
export class UnknownRank extends AtollError {
  constructor() {
    super('the rank or a shape-determining value is known only at run time')
  }
}
