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
  const range = BigInt64Array.from({ length: classes }, (_, i) => BigInt(i))
  const classIds = e.constant({ dtype: 'int64', shape: classShape, data: range }, 'classes')
  const labels64 = ctx.inputDtype(1) === 'int64' ? labels : e.cast(labels, 'int64')
  const column = e.op('Unsqueeze', [labels64, e.ints([1])])
  const oneHot = e.cast(e.op('Equal', [column, classIds]), dtype)
  const ignore = ctx.attrs.optInt('ignore_index')
  // per-position weight w_i: class weight of the label, 0 where the label is ignored
  let weight: string | undefined
  if (ctx.hasInput(2)) {
    const safe =
      ignore === undefined
        ? labels64
        : e.op('Where', [e.op('Equal', [labels64, e.ints([ignore])]), e.ints([0]), labels64])
    weight = e.op('Gather', [ctx.input(2), safe], { axis: attr.int(0) })
  }
  if (ignore !== undefined) {
    const kept = e.cast(e.op('Not', [e.op('Equal', [labels64, e.ints([ignore])])]), dtype)
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
