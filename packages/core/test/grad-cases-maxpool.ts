/**
 * Gradient cases of MaxPool, one per path of its rule (windows apart or overlapping, padding, ceil_mode,
 * auto_pad, dilation, 1-D to 3-D); spread into CASES by grad-cases.ts. Inputs have no ties:
 * autodiff-maxpool.test.ts checks ties against a direct loop.
 */
import { attr } from '../src/graph/types.ts'
import type { Tensor } from '../src/tensor.ts'
import { type Case, type Draw, one, pool } from './grad-case-kit.ts'

/**
 * Distinct values 0.05 apart, in random order: the float32 finite differences' step (0.01) never
 * changes which input of a window is its maximum.
 */
const spaced =
  (shape: number[]) =>
  (p: Draw): Tensor => {
    const x = p(shape)
    const drawn = x.data as Float32Array | Float64Array
    const data = drawn.slice()
    const order = Array.from(drawn.keys()).sort((i, j) => drawn[i] - drawn[j])
    order.forEach((i, rank) => {
      data[i] = (rank - order.length / 2) * 0.05
    })
    return { ...x, data }
  }

export const MAXPOOL_CASES: Record<string, Case> = {
  MaxPool: one('MaxPool', { params: { x: spaced([1, 2, 5, 5]) }, attrs: pool([3, 3], [2, 2], [1, 1, 1, 1]) }),
  'MaxPool (opset 13, overlapping windows, batch 2)': one('MaxPool', {
    params: { x: spaced([2, 2, 5, 5]) },
    attrs: pool([3, 3], [2, 2], [1, 1, 1, 1]),
    opset: 13,
  }),
  'MaxPool (opset 13, dilated, ceil_mode)': one('MaxPool', {
    params: { x: spaced([1, 2, 6, 5]) },
    attrs: {
      kernel_shape: attr.ints([2, 2]),
      strides: attr.ints([2, 1]),
      dilations: attr.ints([2, 1]),
      ceil_mode: attr.int(1),
    },
    opset: 13,
  }),
  'MaxPool (2×2 stride 2: windows apart)': one('MaxPool', {
    params: { x: spaced([2, 3, 4, 6]) },
    attrs: pool([2, 2], [2, 2], [0, 0, 0, 0]),
  }),
  'MaxPool (apart, odd size: the last row and column in no window)': one('MaxPool', {
    params: { x: spaced([1, 2, 5, 5]) },
    attrs: pool([2, 2], [2, 2], [0, 0, 0, 0]),
  }),
  'MaxPool (apart, front padding)': one('MaxPool', {
    params: { x: spaced([1, 2, 5, 5]) },
    attrs: pool([2, 2], [2, 2], [1, 1, 0, 0]),
  }),
  'MaxPool (1-D, stride 3 > kernel 2, ceil_mode)': one('MaxPool', {
    params: { x: spaced([2, 2, 8]) },
    attrs: { kernel_shape: attr.ints([2]), strides: attr.ints([3]), ceil_mode: attr.int(1) },
  }),
  'MaxPool (SAME_UPPER, stride 2)': one('MaxPool', {
    params: { x: spaced([1, 2, 5, 6]) },
    attrs: {
      kernel_shape: attr.ints([3, 3]),
      strides: attr.ints([2, 2]),
      auto_pad: attr.string('SAME_UPPER'),
    },
  }),
  'MaxPool (3-D, stride 1)': one('MaxPool', {
    params: { x: spaced([1, 2, 3, 4, 3]) },
    attrs: {
      kernel_shape: attr.ints([2, 2, 2]),
      strides: attr.ints([1, 2, 1]),
      pads: attr.ints([0, 1, 0, 0, 0, 1]),
    },
  }),
}
