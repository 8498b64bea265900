import { attr } from '../../graph/types.ts'
import { numel } from '../../tensor.ts'
import type { GradContext, GradRule } from '../rule.ts'

/**
 * The gradient of data scatters g back to the slices GatherND read, adding where an index tuple
 * repeats (tokens routed to one expert): ScatterND with reduction 'add' (opset 16+). ScatterND has
 * no batch_dims, so with batch_dims b each index tuple is prefixed with its batch coordinates (a
 * constant, expanded over the index dims). Indices get no gradient.
 */
export const gatherNDGrad: GradRule = {
  opType: 'GatherND',
  inputsToSave: [1],
  grad(ctx) {
    if (!ctx.needsGrad(0)) return []
    if (ctx.opset < 16) ctx.fail('the GatherND gradient needs opset 16 (ScatterND with reduction)')
    const e = ctx.emit
    const data = ctx.inputShape(0)
    const zeros = e.zeros(data, ctx.inputDtype(0))
    const scattered = e.op('ScatterND', [zeros, withBatchCoordinates(ctx), ctx.dyOrZeros(0)], {
      reduction: attr.string('add'),
    })
    return [scattered]
  },
}

/** The indices with each tuple's batch coordinates in front (as they are when batch_dims is 0). */
function withBatchCoordinates(ctx: GradContext): string {
  const batch = ctx.attrs.int('batch_dims')
  if (batch === 0) return ctx.input(1)
  const e = ctx.emit
  const batchShape = ctx.inputShape(0).slice(0, batch)
  const indices = ctx.inputShape(1)
  const count = numel(batchShape)
  const coordinates = new BigInt64Array(count * batch)
  for (let t = 0; t < count; t++) {
    let rest = t
    for (let d = batch - 1; d >= 0; d--) {
      coordinates[t * batch + d] = BigInt(rest % batchShape[d])
      rest = Math.floor(rest / batchShape[d])
    }
  }
  const middle = indices.slice(batch, -1)
  const shape = [...batchShape, ...middle.map(() => 1), batch]
  const constant = e.constant({ dtype: 'int64', shape, data: coordinates }, 'batch')
  const spread = e.op('Expand', [constant, e.ints([...indices.slice(0, -1), batch])])
  return e.op('Concat', [spread, ctx.input(1)], { axis: attr.int(-1) })
}
