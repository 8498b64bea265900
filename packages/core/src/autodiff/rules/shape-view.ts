/**
 * A forward node's GradContext seen as a ShapeContext, so that a rule reads an op's geometry
 * (ConvTranspose's pads, Resize's scales) through the same functions as shape inference and the
 * reference kernels rather than a copy of them.
 */
import type { ShapeContext } from '../../ops/shape/context.ts'
import { UnknownRank } from '../../ops/shape/context.ts'
import type { GradContext } from '../rule.ts'

const INTEGER = new Set(['int64', 'int32', 'uint8'])

export function shapeView(ctx: GradContext): ShapeContext {
  return {
    node: ctx.node,
    opset: ctx.opset,
    attrs: ctx.attrs,
    inputCount: ctx.node.inputs.length,
    has: (i) => ctx.hasInput(i),
    dtype: (i) => ctx.inputDtype(i),
    shape: (i) => ctx.inputShape(i),
    value: (i) => ctx.constant(i),
    dims(i) {
      const t = ctx.constant(i)
      if (t === undefined || !INTEGER.has(t.dtype) || t.shape.length > 1) return undefined
      return Array.from(t.data as ArrayLike<number | bigint>, Number)
    },
    fail: (message) => ctx.fail(message),
  }
}

/** `read(view)`, where a value the geometry needs known only at run time is a rule failure. */
export function readGeometry<T>(ctx: GradContext, what: string, read: (view: ShapeContext) => T): T {
  try {
    return read(shapeView(ctx))
  } catch (err) {
    if (err instanceof UnknownRank) ctx.fail(`${what} must be known before run time for autodiff`)
    throw err
  }
}
