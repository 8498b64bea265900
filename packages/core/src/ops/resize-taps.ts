/**
 * Resize's sampling plan along one axis: for each output position, the input positions it reads
 * and their weights. The reference kernel applies it; autodiff applies its transpose, so the two
 * cannot disagree on coordinates, rounding or clamping.
 */
import type { Attrs } from './attrs.ts'

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

/** The input positions one output position reads, and their weights. */
export interface ResizeTap {
  index: number[]
  weight: number[]
}

/** What the plan reads of the Resize node: its attributes, and how to fail naming it. */
export interface ResizeNode {
  attrs: Attrs
  fail(message: string): never
}

/** For each output position along an axis of `inLen` → `outLen` at `scale`: its taps. */
export function resizeTaps(node: ResizeNode, inLen: number, outLen: number, scale: number): ResizeTap[] {
  const mode = node.attrs.string('mode')
  const transform = node.attrs.string('coordinate_transformation_mode')
  const round =
    ROUNDING[node.attrs.string('nearest_mode')] ??
    node.fail(`nearest_mode '${node.attrs.string('nearest_mode')}' is not supported`)
  const excludeOutside = node.attrs.int('exclude_outside') === 1
  const a = node.attrs.float('cubic_coeff_a')
  const clamp = (i: number) => Math.min(Math.max(i, 0), inLen - 1)
  return Array.from({ length: outLen }, (_, x) => {
    const src = sourceCoordinate(transform, x, scale, inLen, outLen)
    if (src === undefined) return node.fail(`coordinate_transformation_mode '${transform}' is not supported`)
    if (mode === 'nearest') return { index: [clamp(round(src))], weight: [1] }
    const base = Math.floor(src)
    const t = src - base
    if (mode === 'linear') {
      const s = Math.min(Math.max(src, 0), inLen - 1)
      const i0 = Math.floor(s)
      return { index: [i0, clamp(i0 + 1)], weight: [1 - (s - i0), s - i0] }
    }
    if (mode !== 'cubic') return node.fail(`mode '${mode}' is not nearest, linear or cubic`)
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

/** Whether Resize samples this axis at all (an axis kept at its size with scale 1 is copied). */
export function isResampled(inLen: number, outLen: number, scale: number): boolean {
  return outLen !== inLen || scale !== 1
}
