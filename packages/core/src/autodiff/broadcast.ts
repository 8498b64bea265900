/**
 * Undoing numpy broadcasting, statically: a gradient of the broadcast result's shape is summed over
 * the axes that broadcasting added or stretched (ReduceSum, axes as an input) and reshaped to the
 * operand's shape. Shapes are static here because Atoll compiles one backward per input-shape
 * signature, so no Shape/Size ops are needed at run time.
 */
import type { GradEmitter } from './emitter.ts'

/** The axes of `from` that broadcasting `to` up to `from` created or stretched. */
export function broadcastAxes(from: readonly number[], to: readonly number[]): number[] {
  const lead = from.length - to.length
  const axes: number[] = []
  for (let i = 0; i < from.length; i++) {
    if (i < lead) axes.push(i)
    else if (to[i - lead] === 1 && from[i] !== 1) axes.push(i)
  }
  return axes
}

/** `g` (shape `from`) summed down to `to`, the shape of an operand that was broadcast to `from`. */
export function sumTo(
  emit: GradEmitter,
  grad: string,
  from: readonly number[],
  to: readonly number[],
): string {
  if (sameShape(from, to)) return grad
  const axes = broadcastAxes(from, to)
  if (axes.length === 0) return emit.reshape(grad, to)
  // dropping the summed axes often leaves `to` itself (a bias summed over batch and positions): one
  // node, not two (onnxruntime spends as much host time launching a Reshape as a real kernel)
  const dropped = from.filter((_, i) => !axes.includes(i))
  if (sameShape(dropped, to)) return emit.reduceSum(grad, axes, false)
  // keepdims leaves the leading axes as 1s; a reshape drops them
  const summed = emit.reduceSum(grad, axes, true)
  return from.length === to.length ? summed : emit.reshape(summed, to)
}

export function sameShape(left: readonly number[], right: readonly number[]): boolean {
  return left.length === right.length && left.every((d, i) => d === right[i])
}

/** Numpy broadcast of two static shapes. */
export function broadcastShapes(left: readonly number[], right: readonly number[]): number[] {
  const n = Math.max(left.length, right.length)
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const x = left[left.length - n + i] ?? 1
    const y = right[right.length - n + i] ?? 1
    out.push(x === 1 ? y : x)
  }
  return out
}
