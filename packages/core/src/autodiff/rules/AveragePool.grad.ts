import type { GradRule } from '../rule.ts'
import { convGeometry, transposedConv } from './conv-geometry.ts'

/**
 * Average pooling is a depthwise convolution with a ones kernel divided by the window count; its
 * gradient is the transposed convolution of g/count with that ones kernel. With
 * count_include_pad=0 the count varies near the borders: it is computed per output position here,
 * at compile time.
 */
export const averagePoolGrad: GradRule = {
  opType: 'AveragePool',
  grad(ctx) {
    if (ctx.attrs.int('ceil_mode') !== 0) ctx.fail('ceil_mode=1 is not supported')
    const e = ctx.emit
    const x = ctx.inputShape(0)
    const dtype = ctx.inputDtype(0)
    const kernel = ctx.attrs.ints('kernel_shape') ?? ctx.fail('kernel_shape is required')
    const geo = convGeometry(ctx, kernel)
    const channels = x[1]
    const counts = windowCounts(
      geo.input,
      geo.output,
      kernel,
      geo.strides,
      geo.pads,
      ctx.attrs.int('count_include_pad') === 1,
    )
    const inverse = new Float64Array(counts.map((c) => 1 / c))
    const g = e.op('Mul', [ctx.dyOrZeros(0), e.floats([1, 1, ...geo.output], inverse, dtype, 'inv_count')])
    const size = kernel.reduce((a, b) => a * b, 1)
    const ones = new Float64Array(channels * size).fill(1)
    const wShape = [channels, 1, ...kernel]
    const w = e.floats(wShape, ones, dtype, 'ones_kernel')
    const geoUnitDilation = { ...geo, dilations: kernel.map(() => 1) }
    return [transposedConv(ctx, g, w, wShape, geoUnitDilation, channels)]
  },
}

/** How many input positions each output window averages (row-major over the output positions). */
function windowCounts(
  input: number[],
  output: number[],
  kernel: number[],
  strides: number[],
  pads: number[],
  includePad: boolean,
): number[] {
  const k = input.length
  const perAxis = output.map((n, i) =>
    Array.from({ length: n }, (_, o) => {
      const start = o * strides[i] - pads[i]
      const end = start + kernel[i]
      if (includePad) return Math.min(end, input[i] + pads[k + i]) - start
      return Math.min(end, input[i]) - Math.max(start, 0)
    }),
  )
  let counts = [1]
  for (const axis of perAxis) counts = counts.flatMap((c) => axis.map((a) => c * a))
  return counts
}
