/** Shape functions of elementwise ops: numpy broadcasting, same-dtype checks, bool outputs. */
import type { Dim, Node } from '../../graph/types.ts'
import type { DType } from '../../tensor.ts'
import { showShape } from '../dims.ts'
import { BroadcastError } from '../errors.ts'
import type { ShapeContext, ShapeFn } from './context.ts'

/**
 * The numpy broadcast of `shapes`. A symbol against 1 gives the symbol; a symbol against a number
 * n > 1 gives n (the symbol must equal n at run time); two different symbols give the first.
 */
export function broadcastShapes(node: Node, shapes: readonly Dim[][]): Dim[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length))
  const out: Dim[] = []
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1
    for (const s of shapes) {
      const e = s[s.length - rank + i] ?? 1
      if (e === 1 || e === d) continue
      if (d === 1 || typeof d === 'string') {
        d = typeof e === 'string' && typeof d === 'string' ? d : e
      } else if (typeof e === 'number') {
        throw new BroadcastError(node, `cannot broadcast shapes ${shapes.map(showShape).join(' and ')}`)
      }
    }
    out.push(d)
  }
  return out
}

function sameDtype(ctx: ShapeContext, indices: number[]): DType {
  const d = ctx.dtype(indices[0])
  for (const i of indices) {
    if (ctx.dtype(i) !== d) ctx.fail(`inputs must share a dtype, found ${d} and ${ctx.dtype(i)}`)
  }
  return d
}

const present = (ctx: ShapeContext): number[] =>
  Array.from({ length: ctx.inputCount }, (_, i) => i).filter((i) => ctx.has(i))

const bcast = (ctx: ShapeContext, idx: number[]): Dim[] =>
  broadcastShapes(
    ctx.node,
    idx.map((i) => ctx.shape(i)),
  )

/** Add, Sub, …, Min, Max, Sum, Mean: every input the same dtype, output broadcast. */
export const sameTypeBroadcast: ShapeFn = (ctx) => {
  const idx = present(ctx)
  return [{ dtype: sameDtype(ctx, idx), shape: bcast(ctx, idx) }]
}

/** Pow and PRelu-like ops: dtype of the first input, shapes broadcast. */
export const firstTypeBroadcast: ShapeFn = (ctx) => [{ dtype: ctx.dtype(0), shape: bcast(ctx, [0, 1]) }]

/** Equal, Less, …, And, Or: bool of the broadcast shape. */
export const compareBroadcast: ShapeFn = (ctx) => {
  sameDtype(ctx, [0, 1])
  return [{ dtype: 'bool', shape: bcast(ctx, [0, 1]) }]
}

export const where: ShapeFn = (ctx) => {
  if (ctx.dtype(0) !== 'bool') ctx.fail(`condition must be bool, found ${ctx.dtype(0)}`)
  return [{ dtype: sameDtype(ctx, [1, 2]), shape: bcast(ctx, [0, 1, 2]) }]
}

/** Unary ops keep shape and dtype. */
export const sameAsInput: ShapeFn = (ctx) => [{ dtype: ctx.dtype(0), shape: ctx.shape(0) }]

/** IsNaN, IsInf, Not: bool of the same shape. */
export const boolOfInput: ShapeFn = (ctx) => [{ dtype: 'bool', shape: ctx.shape(0) }]

export const ELEMENTWISE_SHAPES: Record<string, ShapeFn> = {
  Add: sameTypeBroadcast,
  Sub: sameTypeBroadcast,
  Mul: sameTypeBroadcast,
  Div: sameTypeBroadcast,
  Mod: sameTypeBroadcast,
  Min: sameTypeBroadcast,
  Max: sameTypeBroadcast,
  Sum: sameTypeBroadcast,
  Mean: sameTypeBroadcast,
  Pow: firstTypeBroadcast,
  PRelu: firstTypeBroadcast,
  Equal: compareBroadcast,
  Less: compareBroadcast,
  LessOrEqual: compareBroadcast,
  Greater: compareBroadcast,
  GreaterOrEqual: compareBroadcast,
  And: compareBroadcast,
  Or: compareBroadcast,
  Xor: compareBroadcast,
  Where: where,
  Not: boolOfInput,
  IsNaN: boolOfInput,
  IsInf: boolOfInput,
}

for (const op of [
  'Neg',
  'Abs',
  'Sign',
  'Sqrt',
  'Reciprocal',
  'Exp',
  'Log',
  'Sin',
  'Cos',
  'Tanh',
  'Sigmoid',
  'Erf',
  'Floor',
  'Ceil',
  'Round',
  'Relu',
  'Softplus',
  'Softsign',
  'Tan',
  'Atan',
  'Asin',
  'Acos',
  'Sinh',
  'Cosh',
  'Mish',
  'Celu',
  'ThresholdedRelu',
  'HardSwish',
  'LeakyRelu',
  'Elu',
  'Selu',
  'HardSigmoid',
  'Gelu',
  'Clip',
  'Identity',
  'Softmax',
  'LogSoftmax',
]) {
  ELEMENTWISE_SHAPES[op] = sameAsInput
}
