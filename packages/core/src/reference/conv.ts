/** Conv (N-d, groups, strides, pads, dilations, auto_pad) and the pools. */
import { numel } from '../tensor.ts'
import { convTranspose } from './conv-transpose.ts'
import type { Kernel } from './kernel.ts'
import { fromF64, toF64 } from './values.ts'
import { gemmInto } from './linalg.ts'
import { slidingWindow, type Window } from './window.ts'

/**
 * The (channels · taps) × outputs patch matrix of `channels` consecutive input planes (im2col): row
 * c·taps + t holds, for every output position, the input under tap t of plane c (0 in the padding).
 * A group's convolution is then one matrix product of its weights with this matrix.
 */
function im2col(
  cols: Float64Array,
  xv: Float64Array,
  xBase: number,
  channels: number,
  plane: number,
  win: Window,
) {
  const { taps, offsets } = win
  const outPlane = offsets.length / taps
  for (let c = 0; c < channels; c++) {
    const from = xBase + c * plane
    const to = c * taps * outPlane
    for (let o = 0; o < outPlane; o++) {
      for (let t = 0; t < taps; t++) {
        const off = offsets[o * taps + t]
        cols[to + t * outPlane + o] = off >= 0 ? xv[from + off] : 0
      }
    }
  }
}

const conv: Kernel = (ctx) => {
  const x = ctx.input(0)
  const w = ctx.input(1)
  const [n, c] = x.shape
  const [m, cg] = w.shape
  const group = ctx.attrs.int('group')
  if (c !== cg * group || m % group !== 0)
    ctx.fail(`X has ${c} channels, W [${w.shape}] with group ${group} does not fit`)
  const kernel = ctx.attrs.ints('kernel_shape') ?? w.shape.slice(2)
  const win = slidingWindow(ctx, x.shape.slice(2), kernel)
  const plane = numel(win.inSpatial)
  const outPlane = numel(win.out)
  const xv = toF64(x)
  const wv = toF64(w)
  const bias = ctx.inputs[2] ? toF64(ctx.inputs[2]) : undefined
  const y = new Float64Array(n * m * outPlane)
  const mPerGroup = m / group
  const k = cg * win.taps
  const cols = new Float64Array(k * outPlane)
  for (let b = 0; b < n; b++) {
    for (let g = 0; g < group; g++) {
      im2col(cols, xv, (b * c + g * cg) * plane, cg, plane, win)
      // the group's outputs [M/group × out] += its weights [M/group × C/group·taps] · cols
      const yBase = (b * m + g * mPerGroup) * outPlane
      gemmInto(y, yBase, wv, g * mPerGroup * k, cols, 0, mPerGroup, k, outPlane)
    }
    if (bias) {
      for (let oc = 0; oc < m; oc++)
        for (let o = 0; o < outPlane; o++) y[(b * m + oc) * outPlane + o] += bias[oc]
    }
  }
  return [fromF64(x.dtype, [n, m, ...win.out], y)]
}

/** MaxPool, with the optional Indices output (flat row-major positions in the whole input). */
const maxPool: Kernel = (ctx) => {
  const x = ctx.input(0)
  const win = slidingWindow(ctx, x.shape.slice(2), ctx.attrs.ints('kernel_shape') ?? [])
  if (ctx.attrs.int('storage_order') !== 0)
    ctx.fail('storage_order 1 (column-major indices) is not supported')
  const planes = x.shape[0] * x.shape[1]
  const plane = numel(win.inSpatial)
  const outPlane = numel(win.out)
  const xv = toF64(x)
  const y = new Float64Array(planes * outPlane)
  const at = new Float64Array(planes * outPlane)
  for (let p = 0; p < planes; p++) {
    for (let o = 0; o < outPlane; o++) {
      let best = -Infinity
      let arg = -1
      for (let t = 0; t < win.taps; t++) {
        const off = win.offsets[o * win.taps + t]
        if (off >= 0 && (xv[p * plane + off] > best || arg < 0)) {
          best = xv[p * plane + off]
          arg = p * plane + off
        }
      }
      y[p * outPlane + o] = best
      at[p * outPlane + o] = arg
    }
  }
  const shape = [x.shape[0], x.shape[1], ...win.out]
  return [fromF64(x.dtype, shape, y), fromF64('int64', shape, at)]
}

/** AveragePool: the divisor counts padding taps only with count_include_pad. */
const averagePool: Kernel = (ctx) => {
  const x = ctx.input(0)
  const win = slidingWindow(ctx, x.shape.slice(2), ctx.attrs.ints('kernel_shape') ?? [])
  const includePad = ctx.attrs.int('count_include_pad') === 1
  const planes = x.shape[0] * x.shape[1]
  const plane = numel(win.inSpatial)
  const outPlane = numel(win.out)
  const xv = toF64(x)
  const y = new Float64Array(planes * outPlane)
  for (let p = 0; p < planes; p++) {
    for (let o = 0; o < outPlane; o++) {
      let s = 0
      let valid = 0
      for (let t = 0; t < win.taps; t++) {
        const off = win.offsets[o * win.taps + t]
        if (off >= 0) {
          s += xv[p * plane + off]
          valid++
        }
      }
      y[p * outPlane + o] = s / (includePad ? win.paddedCount[o] : valid)
    }
  }
  return [fromF64(x.dtype, [x.shape[0], x.shape[1], ...win.out], y)]
}

/** GlobalAveragePool / GlobalMaxPool: one value per (n, c) plane. */
const globalPool =
  (max: boolean): Kernel =>
  (ctx) => {
    const x = ctx.input(0)
    const plane = numel(x.shape.slice(2))
    const planes = x.shape[0] * x.shape[1]
    const xv = toF64(x)
    const y = new Float64Array(planes)
    for (let p = 0; p < planes; p++) {
      let acc = max ? -Infinity : 0
      for (let i = 0; i < plane; i++) acc = max ? Math.max(acc, xv[p * plane + i]) : acc + xv[p * plane + i]
      y[p] = max ? acc : acc / plane
    }
    return [
      fromF64(
        x.dtype,
        x.shape.map((d, i) => (i < 2 ? d : 1)),
        y,
      ),
    ]
  }

export const CONV_KERNELS: Record<string, Kernel> = {
  Conv: conv,
  ConvTranspose: convTranspose,
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalPool(false),
  GlobalMaxPool: globalPool(true),
}
