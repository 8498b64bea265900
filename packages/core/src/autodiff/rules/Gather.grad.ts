import { attr } from '../../graph/types.ts'
import type { GradRule } from '../rule.ts'
import { normAxis } from './common.ts'

/**
 * The gradient of data scatters g back to the gathered rows, adding where an index repeats (a token
 * seen twice, tied embeddings): one 3-D ScatterElements(reduction='add') along the gathered axis,
 * the axes before and after it flattened (opset 16+). Older opsets multiply by a one-hot matrix. Indices get no gradient. They are cast to int32 first: onnxruntime's
 * WebGPU provider expands no int64 tensor, and the expanded indices are [tokens, width] — as int64
 * they were built on the CPU and copied to the GPU every step.
 */
export const gatherGrad: GradRule = {
  opType: 'Gather',
  inputsToSave: [1],
  grad(ctx) {
    if (!ctx.needsGrad(0)) return []
    const e = ctx.emit
    const data = ctx.inputShape(0)
    const q = ctx.inputShape(1)
    const p = normAxis(ctx, ctx.attrs.int('axis'), data.length)
    const dtype = ctx.inputDtype(0)
    const rows = data[p]
    const count = q.reduce((a, b) => a * b, 1)
    const rest = [...data.slice(0, p), ...data.slice(p + 1)]
    const width = rest.reduce((a, b) => a * b, 1)
    const ids = ctx.inputDtype(1) === 'int32' ? ctx.input(1) : e.cast(ctx.input(1), 'int32')
    if (ctx.opset >= 16) {
      // g: data[:p] + q + data[p+1:] as [pre, count, post], scattered along the gathered axis where it
      // lies: no axis moves (onnxruntime's transpose optimizer, at its basic level, rewrote the
      // Transpose/Reshape pair of an earlier form wrongly: BERT's gradients through its [:, 0])
      const pre = data.slice(0, p).reduce((a, b) => a * b, 1)
      const post = data.slice(p + 1).reduce((a, b) => a * b, 1)
      const g = e.reshape(ctx.dyOrZeros(0), [pre, count, post])
      const wide = e.op('Expand', [e.reshape(ids, [1, count, 1]), e.ints([pre, count, post])])
      const summed = e.op('ScatterElements', [e.zeros([pre, rows, post], dtype), wide, g], {
        axis: attr.int(1),
        reduction: attr.string('add'),
      })
      return [e.reshape(summed, data)]
    }
    // older opsets multiply by a one-hot matrix: g moved to [count, width], the gathered axis first
    const gRank = data.length - 1 + q.length
    const toFront = [
      ...Array.from({ length: q.length }, (_, i) => p + i),
      ...Array.from({ length: p }, (_, i) => i),
      ...Array.from({ length: gRank - p - q.length }, (_, i) => p + q.length + i),
    ]
    let g = ctx.dyOrZeros(0)
    if (p > 0) g = e.transpose(g, toFront)
    g = e.reshape(g, [count, width])
    const idx = e.reshape(ids, [count, 1])
    const classes = e.int32s(
      Array.from({ length: rows }, (_, i) => i),
      [1, rows],
    )
    const wrapped = e.op('Where', [
      e.op('Less', [idx, e.int32s([0])]),
      e.op('Add', [idx, e.int32s([rows])]),
      idx,
    ])
    const oneHot = e.cast(e.op('Equal', [wrapped, classes]), dtype)
    const summed = e.op('MatMul', [e.transpose(oneHot, [1, 0]), g])
    // [rows, width] → [rows] + data[:p] + data[p+1:] → data layout
    let dx = e.reshape(summed, [rows, ...rest])
    if (p > 0) {
      const back = [
        ...Array.from({ length: p }, (_, i) => i + 1),
        0,
        ...Array.from({ length: data.length - p - 1 }, (_, i) => p + 1 + i),
      ]
      dx = e.transpose(dx, back)
    }
    return [dx]
  },
}
