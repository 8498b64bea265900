import { attr } from '../../graph/types.ts'
import type { GradContext } from '../rule.ts'

/**
 * Pieces shared by SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss: input 0 is [N, C, d…],
 * input 1 the integer labels [N, d…], input 2 optional class weights [C].
 */
export interface ClassLossParts {
  /** one-hot of the labels, [N, C, d…], in the score dtype (all zero on ignored positions) */
  oneHot: string
  /** d loss / d (per-position loss), [N, 1, d…] or a scalar, including weights, mask and reduction */
  coefficient: string
}

export function classLossParts(ctx: GradContext, grad: string): ClassLossParts {
  const e = ctx.emit
  const scores = ctx.inputShape(0)
  const dtype = ctx.inputDtype(0)
  const classes = scores[1]
  const labels = ctx.input(1)
  const positions = ctx.inputShape(1)
  const classShape = [1, classes, ...scores.slice(2).map(() => 1)]
  // int32 labels: onnxruntime's WebGPU provider has no int64 Equal or Where, and the one-hot is
  // [N, C, d…] — an int64 comparison there copied the logits' size to the CPU and back each step
  const classIds = e.int32s(
    Array.from({ length: classes }, (_, i) => i),
    classShape,
  )
  const labels32 = ctx.inputDtype(1) === 'int32' ? labels : e.cast(labels, 'int32')
  const column = e.op('Unsqueeze', [labels32, e.ints([1])])
  const oneHot = e.cast(e.op('Equal', [column, classIds]), dtype)
  const ignore = ctx.attrs.optInt('ignore_index')
  const ignored = ignore === undefined ? undefined : e.op('Equal', [labels32, e.int32s([ignore])])
  // per-position weight w_i: class weight of the label, 0 where the label is ignored
  let weight: string | undefined
  if (ctx.hasInput(2)) {
    const safe = ignored === undefined ? labels32 : e.op('Where', [ignored, e.int32s([0]), labels32])
    weight = e.op('Gather', [ctx.input(2), safe], { axis: attr.int(0) })
  }
  if (ignored !== undefined) {
    const kept = e.cast(e.op('Not', [ignored]), dtype)
    weight = weight === undefined ? kept : e.op('Mul', [weight, kept])
  }
  const reduction = ctx.attrs.string('reduction')
  let coefficient: string
  if (reduction === 'none') coefficient = weight === undefined ? grad : e.op('Mul', [grad, weight])
  else if (reduction === 'sum') coefficient = weight === undefined ? grad : e.op('Mul', [grad, weight])
  else if (reduction === 'mean') {
    const count = positions.reduce((a, b) => a * b, 1)
    const denominator =
      weight === undefined
        ? e.scalar(count, dtype)
        : e.reduceSum(
            weight,
            positions.map((_, i) => i),
            false,
          )
    coefficient = e.op('Div', [weight === undefined ? grad : e.op('Mul', [grad, weight]), denominator])
  } else ctx.fail(`unknown reduction '${reduction}'`)
  // a per-position coefficient lines up with [N, C, d…] after inserting the class axis
  const perPosition = reduction === 'none' || weight !== undefined
  if (perPosition) coefficient = e.op('Unsqueeze', [coefficient, e.ints([1])])
  return { oneHot, coefficient }
}
