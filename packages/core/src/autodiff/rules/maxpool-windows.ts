import { attr } from '../../graph/types.ts'
import { takesAsInput } from '../../ops/attrs.ts'
import type { DType } from '../../tensor.ts'
import type { GradContext } from '../rule.ts'
import type { ConvGeometry } from './conv-geometry.ts'

/**
 * The MaxPool gradient's first half: read every window of the input with exact ops (Transpose,
 * Pad, strided Slice — never a Conv, whose GPU arithmetic may be TF32) and give each window's dY to
 * its first position (row-major, as PyTorch breaks ties) whose input equals the pooled output Y.
 *
 * Channels go last ([N, spatial…, C]) for the whole gradient: every Slice, Pad, Concat, broadcast
 * and reduction then moves blocks of C values or more. In NCHW the window axes interleave with the
 * spatial ones and onnxruntime's CPU provider took 10–20× longer for the same ops (element-wise
 * broadcasts and pads over axes of length 2). Not [spatial…, N·C] either: onnxruntime's optimizer
 * moves the Reshape that splits N·C before the last Transpose, which then takes its slow path.
 */

/** The shares of dY, [N, K₁, …, K_r, O₁, …, O_r, C]: zero except at each window's first maximum. */
export function windowShares(ctx: GradContext, geo: ConvGeometry): string {
  const e = ctx.emit
  const dtype = ctx.inputDtype(0)
  const [n, c] = ctx.inputShape(0)
  const rank = geo.kernel.length
  const spatial = geo.kernel.map((_, a) => a + 1)
  const before = geo.pads.slice(0, rank)
  // ceil_mode's last window may reach past the end pad: pad as far as the windows reach
  const reach = geo.output.map(
    (o, a) => (o - 1) * geo.strides[a] + (geo.kernel[a] - 1) * geo.dilations[a] + 1,
  )
  const after = geo.input.map((size, a) => Math.max(0, reach[a] - before[a] - size))
  let x = channelsLast(ctx, ctx.input(0))
  if ([...before, ...after].some((p) => p > 0))
    x = e.op('Pad', [x, e.ints([0, ...before, 0, 0, ...after, 0]), e.scalar(lowestFinite(dtype), dtype)])
  const axes = e.ints(spatial)
  const steps = e.ints(geo.strides)
  const slices = rowMajor(geo.kernel).map((k) => {
    const starts = k.map((kd, a) => kd * geo.dilations[a])
    const ends = starts.map((s, a) => s + (geo.output[a] - 1) * geo.strides[a] + 1)
    return e.op('Slice', [x, e.ints(starts), e.ints(ends), axes, steps])
  })
  const count = slices.length
  // [N, O₁, …, C] joined along axis 1 is [N, K, O₁, …, C] in memory
  const joined = count === 1 ? slices[0] : e.op('Concat', slices, { axis: attr.int(1) })
  const windows = e.reshape(joined, [n, count, ...geo.output, c])
  const view = (value: string) => e.op('Unsqueeze', [channelsLast(ctx, value), e.ints([1])])
  const shares = firstWinnerShares(ctx, {
    windows,
    y: view(ctx.output(0)),
    dy: view(ctx.dyOrZeros(0)),
    count,
  })
  return e.reshape(shares, [n, ...geo.kernel, ...geo.output, c])
}

/** [N, C, spatial…] → [N, spatial…, C]. */
function channelsLast(ctx: GradContext, value: string): string {
  const rank = ctx.inputShape(0).length
  return ctx.emit.transpose(value, [0, ...Array.from({ length: rank - 2 }, (_, a) => a + 2), 1])
}

/** Windows [N, K, O…, C] beside the pooled output and its gradient, [N, 1, O…, C]. */
interface Windows {
  windows: string
  y: string
  dy: string
  count: number
}

/**
 * dY where a window position is the first (in kernel order) to equal Y, else 0. The first is found
 * by ranking: each match gets its offset's number, the others the count, and the window's least
 * rank wins — a tie of zeros after ReLU gives one position all of dY, not each a copy.
 */
function firstWinnerShares(ctx: GradContext, { windows, y, dy, count }: Windows): string {
  const e = ctx.emit
  const dtype = ctx.inputDtype(0)
  const orderShape = ctx.inputShape(0).map(() => 1)
  orderShape.splice(1, 0, count)
  const order = e.floats(
    orderShape,
    Float64Array.from({ length: count }, (_, i) => i),
    dtype,
    'pool_order',
  )
  const ranked = e.op('Where', [e.op('Equal', [windows, y]), order, e.scalar(count, dtype)])
  const keepdims = attr.int(1)
  const first = takesAsInput('ReduceMin', 'axes', ctx.opset)
    ? e.op('ReduceMin', [ranked, e.ints([1])], { keepdims })
    : e.op('ReduceMin', [ranked], { axes: attr.ints([1]), keepdims })
  return e.op('Where', [e.op('Equal', [ranked, first]), dy, e.scalar(0, dtype)])
}

/**
 * The padding value: below every real input, so a padded position never equals Y (unless an input
 * is this value itself, where the gradient may go to the padding). Finite, since −∞ would equal a Y
 * of −∞.
 */
function lowestFinite(dtype: DType): number {
  if (dtype === 'float64') return -Number.MAX_VALUE
  if (dtype === 'float16') return -65504
  return -3.4028234663852886e38
}

/** Every index tuple of a box, row-major. */
function rowMajor(dims: number[]): number[][] {
  let out: number[][] = [[]]
  for (const d of dims) out = out.flatMap((t) => Array.from({ length: d }, (_, i) => [...t, i]))
  return out
}
