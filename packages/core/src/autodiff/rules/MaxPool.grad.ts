import { attr } from '../../graph/types.ts'
import type { GradRule } from '../rule.ts'
import { maxPoolGradByMask } from './maxpool-mask.ts'

/**
 * Each output's gradient goes to the input position that won its window. The winners come from the
 * forward's Indices output when it has one, else from a MaxPool recomputed in the backward with an
 * Indices output (indices into the flattened NCHW input); the gradient is then one
 * ScatterElements(reduction='add') into zeros — 'add' because overlapping windows can share a winner.
 * Opsets before 16 have no reduction: see maxPoolGradByMask.
 */
export const maxPoolGrad: GradRule = {
  opType: 'MaxPool',
  inputsToSave: [0],
  outputsToSave: [1],
  grad(ctx) {
    if (ctx.attrs.int('storage_order') !== 0) ctx.fail('storage_order=1 is not supported')
    if (ctx.dy(1) !== undefined) ctx.fail('the Indices output has no gradient')
    const e = ctx.emit
    const x = ctx.inputShape(0)
    const total = x.reduce((a, b) => a * b, 1)
    const outCount = ctx.outputShape(0).reduce((a, b) => a * b, 1)
    const indices = ctx.node.outputs[1]
      ? ctx.output(1)
      : e.opN('MaxPool', [ctx.input(0)], 2, ctx.node.attributes)[1]
    if (ctx.opset < 16) return [maxPoolGradByMask(ctx, indices)]
    const scattered = e.op(
      'ScatterElements',
      [
        e.zeros([1, total], ctx.inputDtype(0)),
        e.reshape(indices, [1, outCount]),
        e.reshape(ctx.dyOrZeros(0), [1, outCount]),
      ],
      { axis: attr.int(1), reduction: attr.string('add') },
    )
    return [e.reshape(scattered, x)]
  },
}
