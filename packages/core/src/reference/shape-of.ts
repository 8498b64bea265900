/**
 * Kernels that only regroup data (Reshape, Squeeze, Expand, Split, …) take their output shapes from
 * the shape functions run on the concrete inputs, so that inference and execution cannot disagree.
 */
import type { ShapeContext } from '../ops/shape/context.ts'
import { SHAPE_FNS } from '../ops/shape/index.ts'
import { ShapeInferenceError } from '../ops/errors.ts'
import type { KernelContext } from './kernel.ts'
import { ints } from './values.ts'

export function concreteShapeContext(ctx: KernelContext): ShapeContext {
  const isInt = (i: number) => ['int64', 'int32', 'uint8'].includes(ctx.input(i).dtype)
  return {
    node: ctx.node,
    opset: ctx.opset,
    attrs: ctx.attrs,
    inputCount: ctx.inputs.length,
    has: (i) => ctx.inputs[i] !== undefined,
    dtype: (i) => ctx.input(i).dtype,
    shape: (i) => [...ctx.input(i).shape],
    value: (i) => ctx.inputs[i],
    dims: (i) =>
      ctx.inputs[i] && isInt(i) && ctx.input(i).shape.length <= 1 ? ints(ctx.input(i)) : undefined,
    fail(message) {
      throw new ShapeInferenceError(ctx.node, message)
    },
  }
}

/** The static output shapes of the node on its concrete inputs. */
export function outputShapes(ctx: KernelContext): number[][] {
  return SHAPE_FNS[ctx.node.opType](concreteShapeContext(ctx)).map((o) => o.shape as number[])
}
