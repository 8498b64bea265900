/**
 * Resize, separably one axis at a time: nearest (all four rounding modes), linear and cubic, with
 * the half_pixel, pytorch_half_pixel, align_corners, asymmetric and tf_half_pixel_for_nn
 * coordinate transforms (what PyTorch's interpolate exports).
 */
import { resizeTargets } from '../ops/shape/resize.ts'
import { numel } from '../tensor.ts'
import type { Kernel, KernelContext } from './kernel.ts'
import { aroundAxis } from './reduce.ts'
import { concreteShapeContext } from './shape-of.ts'
import { fromF64, toF64 } from './values.ts'

/** The input coordinate of output position x along an axis of `inLen` → `outLen` at `scale`. */
function sourceCoordinate(
  mode: string,
  x: number,
  scale: number,
  inLen: number,
  outLen: number,
): number | undefined {
  switch (mode) {
    case 'half_pixel':
      return (x + 0.5) / scale - 0.5
    case 'pytorch_half_pixel':
      return outLen > 1 ? (x + 0.5) / scale - 0.5 : 0
    case 'align_corners':
      return outLen === 1 ? 0 : (x * (inLen - 1)) / (outLen - 1)
    case 'asymmetric':
      return x / scale
    case 'tf_half_pixel_for_nn':
      return (x + 0.5) / scale
    default:
      return undefined
  }
}

const ROUNDING: Record<string, (x: number) => number> = {
  round_prefer_floor: (x) => (x - Math.floor(x) === 0.5 ? Math.floor(x) : Math.round(x)),
  round_prefer_ceil: (x) => Math.round(x),
  floor: Math.floor,
  ceil: Math.ceil,
}

/** Cubic convolution weights (Keys) of the four taps around t ∈ [0, 1). */
function cubicWeights(t: number, a: number): number[] {
  const w = (d: number) => {
    const x = Math.abs(d)
    if (x <= 1) return (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1
    if (x < 2) return a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a
    return 0
  }
  return [w(t + 1), w(t), w(1 - t), w(2 - t)]
}

/** For each output position along an axis: the input taps and their weights. */
function taps(ctx: KernelContext, inLen: number, outLen: number, scale: number) {
  const mode = ctx.attrs.string('mode')
  const transform = ctx.attrs.string('coordinate_transformation_mode')
  const round =
    ROUNDING[ctx.attrs.string('nearest_mode')] ??
    ctx.fail(`nearest_mode '${ctx.attrs.string('nearest_mode')}' is not supported`)
  const excludeOutside = ctx.attrs.int('exclude_outside') === 1
  const a = ctx.attrs.float('cubic_coeff_a')
  const clamp = (i: number) => Math.min(Math.max(i, 0), inLen - 1)
  return Array.from({ length: outLen }, (_, x) => {
    const src = sourceCoordinate(transform, x, scale, inLen, outLen)
    if (src === undefined) return ctx.fail(`coordinate_transformation_mode '${transform}' is not supported`)
    if (mode === 'nearest') return { index: [clamp(round(src))], weight: [1] }
    const base = Math.floor(src)
    const t = src - base
    if (mode === 'linear') {
      const s = Math.min(Math.max(src, 0), inLen - 1)
      const i0 = Math.floor(s)
      return { index: [i0, clamp(i0 + 1)], weight: [1 - (s - i0), s - i0] }
    }
    if (mode !== 'cubic') return ctx.fail(`mode '${mode}' is not nearest, linear or cubic`)
    const index = [base - 1, base, base + 1, base + 2]
    let weight = cubicWeights(t, a)
    if (excludeOutside) {
      weight = weight.map((w, k) => (index[k] < 0 || index[k] >= inLen ? 0 : w))
      const sum = weight.reduce((p, q) => p + q, 0)
      weight = weight.map((w) => w / sum)
    }
    return { index: index.map(clamp), weight }
  })
}

export const resize: Kernel = (ctx) => {
  const x = ctx.input(0)
  const { out, scales } = resizeTargets(concreteShapeContext(ctx), [...x.shape])
  let shape = [...x.shape]
  let v = toF64(x)
  out.forEach((o, axis) => {
    if (o === shape[axis] && scales[axis] === 1) return
    const { outer, dim, inner } = aroundAxis(shape, axis)
    const plan = taps(ctx, dim, o as number, scales[axis])
    const next = new Float64Array(outer * (o as number) * inner)
    for (let p = 0; p < outer; p++) {
      for (let q = 0; q < (o as number); q++) {
        const { index, weight } = plan[q]
        for (let j = 0; j < inner; j++) {
          let s = 0
          for (let k = 0; k < index.length; k++) s += weight[k] * v[(p * dim + index[k]) * inner + j]
          next[(p * (o as number) + q) * inner + j] = s
        }
      }
    }
    shape = shape.map((d, i) => (i === axis ? (o as number) : d))
    v = next
  })
  if (numel(shape) !== v.length) ctx.fail('internal: resized size mismatch')
  return [fromF64(x.dtype, shape, v)]
}
