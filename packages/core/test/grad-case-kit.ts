/**
 * What the gradient cases are written with: a case is one small graph (usually one node) with the
 * inputs to differentiate and the fixed ones. Shared by grad-cases.ts and the topic case files it
 * spreads in.
 */
import { type Attribute, attr, type Node } from '../src/graph/types.ts'
import { type DType, int64, type Tensor } from '../src/tensor.ts'
import { floatTensor, type OpGraphSpec } from './gradcheck.ts'
import { node } from './ops-helpers.ts'

/** Draws a random tensor of the case's dtype, values in ±[lo, hi] (default ±[0.1, 1]). */
export type Draw = (shape: number[], lo?: number, hi?: number) => Tensor
export type Case = (p: Draw, dtype: DType) => OpGraphSpec

/** A differentiated input: its shape (values in ±[0.1, 1]), or how to draw it. */
type ParamSpec = number[] | ((p: Draw) => Tensor)
/** A fixed input: a tensor, or how to make it in the case's dtype. */
type ConstantSpec = Tensor | ((p: Draw, dtype: DType) => Tensor)

interface OneNode {
  params: Record<string, ParamSpec>
  constants?: Record<string, ConstantSpec>
  attrs?: Record<string, Attribute>
  /** the node's outputs; the first is the one the loss reads (default ['y']) */
  outputs?: string[]
  opset?: number
}

/** A graph of one `opType` node whose inputs are the params then the constants, in that order. */
export const one =
  (opType: string, spec: OneNode): Case =>
  (p, dtype) => {
    const params = Object.fromEntries(
      Object.entries(spec.params).map(([name, s]) => [name, Array.isArray(s) ? p(s) : s(p)]),
    )
    const constants = Object.fromEntries(
      Object.entries(spec.constants ?? {}).map(([name, c]) => [
        name,
        typeof c === 'function' ? c(p, dtype) : c,
      ]),
    )
    const outputs = spec.outputs ?? ['y']
    const inputs = [...Object.keys(params), ...Object.keys(constants)]
    return {
      params,
      constants,
      nodes: [node(opType, inputs, outputs, spec.attrs)],
      output: outputs[0],
      opset: spec.opset,
    }
  }

export const unary = (opType: string, attrs: Record<string, Attribute> = {}, lo = 0.1, hi = 1): Case =>
  one(opType, { params: { x: (p) => p([2, 3], lo, hi) }, attrs })
export const binary = (opType: string, a: number[], b: number[], lo = 0.1): Case =>
  one(opType, { params: { a: (p) => p(a, lo), b: (p) => p(b, lo) } })
/** Values in [lo, hi], for inputs that must be positive (Sqrt, Log, variances, class weights). */
export const positive =
  (shape: number[], lo: number, hi: number) =>
  (p: Draw): Tensor => {
    const x = p(shape, lo, hi)
    return { ...x, data: (x.data as Float64Array).map(Math.abs) as never }
  }
/** A constant scalar in the case's dtype. */
export const scalar = (value: number) => (_: Draw, dtype: DType) => floatTensor(dtype, [], [value])
export const ints = (values: number[]) => int64([values.length], values)
/** A pool's window. */
export const pool = (kernel: number[], strides: number[], pads: number[]) => ({
  kernel_shape: attr.ints(kernel),
  strides: attr.ints(strides),
  pads: attr.ints(pads),
})
/**
 * The scope of a node a case needs beside the one it checks (a Mul that reads a Split's output): the
 * coverage test does not count its rule as checked, so each rule needs a case of its own.
 */
export const HELPER_SCOPE = 'gradcheck.helper'
export const helper = (n: Node): Node => ({ ...n, scope: HELPER_SCOPE })

/** Casts to float64 and back (exact for both dtypes: float64 → float32 would round the probe). */
export const castBack = (dtype: DType) =>
  node('Cast', ['wide'], ['y'], { to: attr.int(dtype === 'float64' ? 11 : 1) })
