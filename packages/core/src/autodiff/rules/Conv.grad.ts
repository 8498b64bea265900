import { attr } from '../../graph/types.ts'
import type { GradContext, GradRule } from '../rule.ts'
import { type ConvGeometry, convGeometry, transposedConv } from './conv-geometry.ts'

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i)

/**
 * Y = conv(X, W) + B with groups, strides, pads, dilations (any number of spatial axes).
 * dX is the transposed convolution of g with W (written as a Conv, see transposedConv), dW is
 * weightGrad's Conv of X by g, dB sums g over the batch and spatial axes.
 */
export const convGrad: GradRule = {
  opType: 'Conv',
  inputsToSave: [0, 1],
  grad(ctx) {
    const wShape = ctx.inputShape(1)
    const geo = convGeometry(ctx, wShape.slice(2))
    const group = ctx.attrs.int('group')
    const g = ctx.dyOrZeros(0)
    const spatial = range(wShape.length - 2, 2)
    return [
      ctx.needsGrad(0) ? transposedConv(ctx, g, ctx.input(1), wShape, geo, group) : undefined,
      ctx.needsGrad(1) ? weightGrad(ctx, g, geo, group) : undefined,
      ctx.hasInput(2) && ctx.needsGrad(2) ? ctx.emit.reduceSum(g, [0, ...spatial], false) : undefined,
    ]
  },
}

/**
 * dW is a Conv of X by g with batch and channels swapped: per group, dW[o, c] = Σ_n x[n, c] ⋆ g[n, o],
 * i.e. X as [Cin/G, G·N, …] convolved (group = G, stride = forward dilation, dilation = forward
 * stride) with g as [G·Cout/G, N, …], cropped to the kernel and transposed back.
 */
function weightGrad(ctx: GradContext, g: string, geo: ConvGeometry, group: number): string {
  const e = ctx.emit
  const [n, cin] = ctx.inputShape(0)
  const cout = ctx.outputShape(0)[1]
  const k = geo.kernel.length
  const cinPerGroup = cin / group
  const xT =
    group === 1
      ? e.transpose(ctx.input(0), [1, 0, ...range(k, 2)])
      : e.reshape(
          e.transpose(e.reshape(ctx.input(0), [n, group, cinPerGroup, ...geo.input]), [
            2,
            1,
            0,
            ...range(k, 3),
          ]),
          [cinPerGroup, group * n, ...geo.input],
        )
  const gT =
    group === 1
      ? e.transpose(g, [1, 0, ...range(k, 2)])
      : e.reshape(
          e.transpose(e.reshape(g, [n, group, cout / group, ...geo.output]), [1, 2, 0, ...range(k, 3)]),
          [cout, n, ...geo.output],
        )
  const full = e.op('Conv', [xT, gT], {
    dilations: attr.ints(geo.strides),
    group: attr.int(group),
    kernel_shape: attr.ints(geo.output),
    pads: attr.ints(geo.pads),
    strides: attr.ints(geo.dilations),
  })
  const cropped = e.op('Slice', [
    full,
    e.ints(range(k, 0).map(() => 0)),
    e.ints(geo.kernel),
    e.ints(range(k, 2)),
  ])
  return e.transpose(cropped, [1, 0, ...range(k, 2)])
}
