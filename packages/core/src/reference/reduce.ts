/** Reductions, ArgMax/ArgMin, CumSum, Softmax and LogSoftmax. */
import { inputForm, normAxis } from '../ops/attrs.ts'
import { numel } from '../tensor.ts'
import type { Kernel, KernelContext } from './kernel.ts'
import { fromF64, ints, mapIndex, stridesOf, toF64 } from './values.ts'

/** The axes a Reduce* node reduces (attribute or input by opset); [] means identity. */
function reduceAxes(ctx: KernelContext, rank: number): number[] {
  const fromInput = inputForm(ctx.node, 'axes', ctx.opset)
  const given = fromInput ? (ctx.inputs[1] ? ints(ctx.inputs[1]) : []) : (ctx.attrs.ints('axes') ?? [])
  if (given.length > 0) return given.map((a) => normAxis(ctx.node, a, rank))
  return ctx.attrs.int('noop_with_empty_axes') ? [] : Array.from({ length: rank }, (_, i) => i)
}

type Fold = {
  init: number
  step: (acc: number, x: number) => number
  end?: (acc: number, count: number) => number
}

const FOLDS: Record<string, Fold> = {
  ReduceSum: { init: 0, step: (a, x) => a + x },
  ReduceMean: { init: 0, step: (a, x) => a + x, end: (a, n) => a / n },
  ReduceMax: { init: -Infinity, step: (a, x) => (x > a || Number.isNaN(x) ? x : a) },
  ReduceMin: { init: Infinity, step: (a, x) => (x < a || Number.isNaN(x) ? x : a) },
  ReduceProd: { init: 1, step: (a, x) => a * x },
  ReduceSumSquare: { init: 0, step: (a, x) => a + x * x },
  ReduceL1: { init: 0, step: (a, x) => a + Math.abs(x) },
  ReduceL2: { init: 0, step: (a, x) => a + x * x, end: (a) => Math.sqrt(a) },
}

/** For each element of `shape`, the flat index of its group once `axes` are collapsed to 1. */
function groupIndex(shape: readonly number[], axes: number[]): { outShape: number[]; group: Int32Array } {
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d))
  const st = stridesOf(outShape)
  const group = mapIndex(shape, (idx) => idx.reduce((s, x, i) => s + (axes.includes(i) ? 0 : x * st[i]), 0))
  return { outShape, group }
}

function reduceWith(ctx: KernelContext, fold: Fold) {
  const x = ctx.input(0)
  const axes = reduceAxes(ctx, x.shape.length)
  if (axes.length === 0) return [x]
  const { outShape, group } = groupIndex(x.shape, axes)
  const v = toF64(x)
  const acc = new Float64Array(numel(outShape)).fill(fold.init)
  for (let k = 0; k < v.length; k++) acc[group[k]] = fold.step(acc[group[k]], v[k])
  const count = v.length / acc.length
  if (fold.end) for (let g = 0; g < acc.length; g++) acc[g] = fold.end(acc[g], count)
  const keep = ctx.attrs.int('keepdims') === 1
  return [fromF64(x.dtype, keep ? outShape : x.shape.filter((_, i) => !axes.includes(i)), acc)]
}

/** log Σ exp, shifted by the group maximum so that large logits do not overflow. */
const reduceLogSumExp: Kernel = (ctx) => {
  const [max] = reduceWith(ctx, FOLDS.ReduceMax)
  const x = ctx.input(0)
  const axes = reduceAxes(ctx, x.shape.length)
  const { group } = groupIndex(x.shape, axes)
  const m = toF64(max)
  const v = toF64(x)
  const sum = new Float64Array(m.length)
  for (let k = 0; k < v.length; k++) sum[group[k]] += Math.exp(v[k] - m[group[k]])
  return [
    fromF64(
      x.dtype,
      max.shape,
      sum.map((s, g) => m[g] + Math.log(s)),
    ),
  ]
}

/** Splits `shape` around `axis` into outer × dim × inner. */
export function aroundAxis(shape: readonly number[], axis: number) {
  return { outer: numel(shape.slice(0, axis)), dim: shape[axis], inner: numel(shape.slice(axis + 1)) }
}

const argReduce =
  (better: (a: number, b: number) => boolean): Kernel =>
  (ctx) => {
    const x = ctx.input(0)
    const axis = normAxis(ctx.node, ctx.attrs.int('axis'), x.shape.length)
    const last = ctx.attrs.int('select_last_index') === 1
    const { outer, dim, inner } = aroundAxis(x.shape, axis)
    const v = toF64(x)
    const out = new Float64Array(outer * inner)
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        let best = 0
        for (let i = 1; i < dim; i++) {
          const a = v[(o * dim + i) * inner + j]
          const b = v[(o * dim + best) * inner + j]
          if (better(a, b) || (last && a === b)) best = i
        }
        out[o * inner + j] = best
      }
    }
    const keep = ctx.attrs.int('keepdims') === 1
    const shape = x.shape.flatMap((d, i) => (i === axis ? (keep ? [1] : []) : [d]))
    return [fromF64('int64', shape, out)]
  }

const cumSum: Kernel = (ctx) => {
  const x = ctx.input(0)
  const axis = normAxis(ctx.node, Number(ctx.input(1).data[0]), x.shape.length)
  const exclusive = ctx.attrs.int('exclusive') === 1
  const reverse = ctx.attrs.int('reverse') === 1
  const { outer, dim, inner } = aroundAxis(x.shape, axis)
  const v = toF64(x)
  const out = new Float64Array(v.length)
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let acc = 0
      for (let s = 0; s < dim; s++) {
        const k = (o * dim + (reverse ? dim - 1 - s : s)) * inner + j
        if (exclusive) out[k] = acc
        acc += v[k]
        if (!exclusive) out[k] = acc
      }
    }
  }
  return [fromF64(x.dtype, x.shape, out)]
}

/** Softmax or LogSoftmax; before opset 13 the input is coerced to 2-D at `axis` (default 1). */
const softmax =
  (log: boolean): Kernel =>
  (ctx) => {
    const x = ctx.input(0)
    const legacy = ctx.opset < 13
    const axis = normAxis(
      ctx.node,
      ctx.attrs.has('axis') ? ctx.attrs.int('axis') : legacy ? 1 : -1,
      x.shape.length,
    )
    const { outer, dim, inner } = legacy
      ? { outer: numel(x.shape.slice(0, axis)), dim: numel(x.shape.slice(axis)), inner: 1 }
      : aroundAxis(x.shape, axis)
    const v = toF64(x)
    const out = new Float64Array(v.length)
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * dim * inner + j
        const end = base + dim * inner
        let max = -Infinity
        for (let k = base; k < end; k += inner) max = Math.max(max, v[k])
        let sum = 0
        for (let k = base; k < end; k += inner) {
          out[k] = Math.exp(v[k] - max)
          sum += out[k]
        }
        const logSum = Math.log(sum)
        for (let k = base; k < end; k += inner) out[k] = log ? v[k] - max - logSum : out[k] / sum
      }
    }
    return [fromF64(x.dtype, x.shape, out)]
  }

/** TopK along an axis: the k largest (or smallest) values and their indices; ties keep the lower index. */
const topK: Kernel = (ctx) => {
  const x = ctx.input(0)
  const axis = normAxis(ctx.node, ctx.attrs.int('axis'), x.shape.length)
  const k = Number(ctx.input(1).data[0])
  const largest = ctx.attrs.int('largest') === 1
  const { outer, dim, inner } = aroundAxis(x.shape, axis)
  if (!(k >= 0 && k <= dim)) ctx.fail(`k = ${k} is not in [0, ${dim}]`)
  const v = toF64(x)
  const values = new Float64Array(outer * k * inner)
  const indices = new Float64Array(outer * k * inner)
  const order = Array.from({ length: dim }, (_, i) => i)
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const at = (i: number) => v[(o * dim + i) * inner + j]
      order.sort((a, b) => (largest ? at(b) - at(a) : at(a) - at(b)) || a - b)
      for (let r = 0; r < k; r++) {
        values[(o * k + r) * inner + j] = at(order[r])
        indices[(o * k + r) * inner + j] = order[r]
      }
      order.sort((a, b) => a - b)
    }
  }
  const shape = x.shape.map((d, i) => (i === axis ? k : d))
  return [fromF64(x.dtype, shape, values), fromF64('int64', shape, indices)]
}

export const REDUCE_KERNELS: Record<string, Kernel> = {
  ReduceLogSumExp: reduceLogSumExp,
  ArgMax: argReduce((a, b) => a > b),
  ArgMin: argReduce((a, b) => a < b),
  CumSum: cumSum,
  TopK: topK,
  Softmax: softmax(false),
  LogSoftmax: softmax(true),
}
for (const [op, fold] of Object.entries(FOLDS)) REDUCE_KERNELS[op] = (ctx) => reduceWith(ctx, fold)
