import type { GradEmitter } from '../emitter.ts'
import type { GradContext } from '../rule.ts'
import type { ConvGeometry } from './conv-geometry.ts'

/**
 * The MaxPool gradient's second half: the window shares ([N, K₁, …, K_r, O₁, …, O_r, C], from
 * windowShares) added back where they came from — share (k, o) at padded position
 * o·stride + k·dilation — with exact data movement only (Transpose, Pad, Reshape, Slice) and, where
 * windows overlap, a ReduceSum whose terms are the overlapping shares (no Conv, no ScatterElements).
 */
export function scatterShares(ctx: GradContext, shares: string, geo: ConvGeometry): string {
  const e = ctx.emit
  const [n, c] = ctx.inputShape(0)
  const rank = geo.kernel.length
  const spatial = geo.kernel.map((_, a) => a)
  const apart = spatial.every((a) => geo.dilations[a] === 1 && geo.strides[a] >= geo.kernel[a])
  // each axis's outputs beside its offsets ([N, O₁, K₁, O₂, K₂, …, C]) where windows do not
  // overlap, each axis's offsets beside its outputs ([N, K₁, O₁, …, C]) for the skews
  const pairs = spatial.flatMap((a) => (apart ? [1 + rank + a, 1 + a] : [1 + a, 1 + rank + a]))
  let g = e.transpose(shares, [0, ...pairs, 1 + 2 * rank])
  const extents = apart ? geo.output.map((o, a) => o * geo.strides[a]) : []
  if (apart) g = interleave(e, g, geo)
  else {
    for (const a of spatial) {
      const { kernel, strides, dilations, output } = geo
      const reach = (kernel[a] - 1) * dilations[a] + output[a] * strides[a]
      const extent = Math.max(reach, geo.pads[a] + geo.input[a])
      g = skewAxis(e, g, {
        lead: n * size(extents),
        kernel: kernel[a],
        output: output[a],
        trail: size(kernel.slice(a + 1)) * size(output.slice(a + 1)) * c,
        stride: strides[a],
        dilation: dilations[a],
        extent,
      })
      extents.push(extent)
    }
  }
  g = toInput(e, e.reshape(g, [n, ...extents, c]), geo, extents)
  return e.transpose(g, [0, rank + 1, ...spatial.map((a) => a + 1)])
}

/**
 * [N, O₁, K₁, O₂, K₂, …, C] → [N, O₁·s₁, O₂·s₂, …, C] for windows that do not overlap (dilation 1,
 * stride s ≥ K): row-major order once each K is padded to its stride.
 */
function interleave(e: GradEmitter, value: string, geo: ConvGeometry): string {
  const rank = geo.kernel.length
  const dims = 2 * rank + 2
  const widen = new Array<number>(2 * dims).fill(0)
  geo.kernel.forEach((k, a) => {
    widen[dims + 2 + 2 * a] = geo.strides[a] - k
  })
  return widen.some((p) => p > 0) ? e.op('Pad', [value, e.ints(widen)]) : value
}

/** [N, extents…, C] → [N, input…, C]: the front padding cut, the back cut or filled with zeros. */
function toInput(e: GradEmitter, value: string, geo: ConvGeometry, extents: number[]): string {
  const front = geo.pads.slice(0, geo.input.length)
  const ends = front.map((p, a) => Math.min(p + geo.input[a], extents[a]))
  const short = ends.map((end, a) => geo.input[a] - (end - front[a]))
  let g = value
  if (front.some((p) => p > 0) || ends.some((end, a) => end < extents[a]))
    g = e.op('Slice', [g, e.ints(front), e.ints(ends), e.ints(geo.input.map((_, a) => a + 1))])
  if (short.some((s) => s > 0)) g = e.op('Pad', [g, e.ints([0, ...short.map(() => 0), 0, 0, ...short, 0])])
  return g
}

/** One spatial axis of scatterShares: the value is [lead, kernel, output, trail]. */
interface AxisScatter {
  lead: number
  kernel: number
  output: number
  trail: number
  stride: number
  dilation: number
  /** the padded length the axis gets, ≥ (kernel − 1)·dilation + output·stride */
  extent: number
}

/**
 * [lead, K, O, trail] → [lead, extent, trail], share (k, o) at o·stride + k·dilation. Stride: Pad a
 * unit axis after O to `stride` and merge (zeros between the outputs). Dilation, a skew: pad each
 * row k to extent + dilation, flatten rows, keep the first K·extent values and cut them into rows
 * of `extent` — row k's values move right by k·dilation — then add the rows.
 */
function skewAxis(e: GradEmitter, value: string, axis: AxisScatter): string {
  const { lead, kernel, output, trail, stride, dilation, extent } = axis
  let g = value
  let width = output
  if (stride > 1) {
    g = e.reshape(g, [lead * kernel, output, 1, trail])
    g = e.op('Pad', [g, e.ints([0, 0, 0, 0, 0, 0, stride - 1, 0])])
    width = output * stride
  }
  const row = extent + dilation
  g = e.op('Pad', [e.reshape(g, [lead * kernel, width, trail]), e.ints([0, 0, 0, 0, row - width, 0])])
  g = e.reshape(g, [lead, kernel * row, trail])
  g = e.op('Slice', [g, e.ints([0]), e.ints([kernel * extent]), e.ints([1])])
  return e.reduceSum(e.reshape(g, [lead, kernel, extent, trail]), [1], false)
}

const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1)
