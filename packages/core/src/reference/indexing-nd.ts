/** GatherND (with batch_dims) and ScatterND (with reduction): index tuples address slices of data. */
import { numel, tensor } from '../tensor.ts'
import { scatterReduction } from './indexing.ts'
import type { Kernel, KernelContext } from './kernel.ts'
import { fromF64, ints, stridesOf, toF64 } from './values.ts'

/**
 * For each index tuple (the last dim of `indices`), the flat offset of the addressed slice within
 * `dataShape`, after `batch` leading batch dims shared by data and indices.
 */
function sliceOffsets(
  ctx: KernelContext,
  dataShape: readonly number[],
  indexShape: readonly number[],
  idx: number[],
  batch: number,
) {
  const k = indexShape[indexShape.length - 1]
  const tuples = numel(indexShape.slice(0, -1))
  const perBatch = tuples / Math.max(1, numel(indexShape.slice(0, batch)))
  const st = stridesOf(dataShape)
  const batchStride = batch > 0 ? st[batch - 1] : 0
  const offsets = new Int32Array(tuples)
  for (let t = 0; t < tuples; t++) {
    let off = Math.floor(t / perBatch) * batchStride
    for (let j = 0; j < k; j++) {
      const n = dataShape[batch + j]
      const i = idx[t * k + j] < 0 ? idx[t * k + j] + n : idx[t * k + j]
      if (!(i >= 0 && i < n)) ctx.fail(`index ${idx[t * k + j]} is out of range for an axis of size ${n}`)
      off += i * st[batch + j]
    }
    offsets[t] = off
  }
  return { offsets, sliceSize: numel(dataShape.slice(batch + k)) }
}

const gatherND: Kernel = (ctx) => {
  const x = ctx.input(0)
  const indices = ctx.input(1)
  const batch = ctx.attrs.int('batch_dims')
  const { offsets, sliceSize } = sliceOffsets(ctx, x.shape, indices.shape, ints(indices), batch)
  const k = indices.shape[indices.shape.length - 1]
  const shape = [...indices.shape.slice(0, -1), ...x.shape.slice(batch + k)]
  const out = tensor(
    x.dtype,
    shape,
    new (x.data.constructor as new (n: number) => typeof x.data)(numel(shape)),
  )
  const from = x.data as unknown as { [i: number]: unknown }
  const to = out.data as unknown as { [i: number]: unknown }
  offsets.forEach((off, t) => {
    for (let e = 0; e < sliceSize; e++) to[t * sliceSize + e] = from[off + e]
  })
  return [out]
}

const scatterND: Kernel = (ctx) => {
  const [x, indices, updates] = [0, 1, 2].map((i) => ctx.input(i))
  const f = scatterReduction(ctx)
  const { offsets, sliceSize } = sliceOffsets(ctx, x.shape, indices.shape, ints(indices), 0)
  const v = toF64(x)
  const u = toF64(updates)
  offsets.forEach((off, t) => {
    for (let e = 0; e < sliceSize; e++) v[off + e] = f(v[off + e], u[t * sliceSize + e])
  })
  return [fromF64(x.dtype, x.shape, v)]
}

export const INDEXING_ND_KERNELS: Record<string, Kernel> = { GatherND: gatherND, ScatterND: scatterND }
