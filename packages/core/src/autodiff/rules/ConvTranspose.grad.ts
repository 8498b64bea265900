import { attr } from '../../graph/types.ts'
import { transposedGeometry } from '../../ops/geometry.ts'
import { transposedSpec } from '../../ops/shape/nn.ts'
import type { GradContext, GradRule } from '../rule.ts'
import { type ConvGeometry, convWeightGrad } from './conv-geometry.ts'
import { readGeometry } from './shape-view.ts'

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i)

/**
 * Y = convᵀ(X, W) + B puts X[p]·W[t] at Y[p·s + t·d − pad]: it is the adjoint, in X, of the Conv
 * from Y's space to X's with the same W, strides, dilations, group and begin pads. So dX is that
 * Conv of g, dW its weight gradient (input g, output gradient X, see convWeightGrad), dB sums g.
 * output_padding, output_shape and auto_pad only decide which Y positions exist, which g's extent
 * already carries: the Conv's end pads are whatever lets its output reach X's size.
 */
export const convTransposeGrad: GradRule = {
  opType: 'ConvTranspose',
  inputsToSave: [0, 1],
  grad(ctx) {
    const wShape = ctx.inputShape(1)
    const geo = adjointGeometry(ctx, wShape)
    const group = ctx.attrs.int('group')
    const g = ctx.dyOrZeros(0)
    const spatial = range(geo.kernel.length, 2)
    const batch = ctx.inputShape(0)[0]
    return [
      ctx.needsGrad(0) ? adjointConv(ctx, g, geo, group) : undefined,
      ctx.needsGrad(1)
        ? convWeightGrad(ctx.emit, { x: g, dy: ctx.input(0), batch }, wShape, geo, group)
        : undefined,
      ctx.hasInput(2) && ctx.needsGrad(2) ? ctx.emit.reduceSum(g, [0, ...spatial], false) : undefined,
    ]
  },
}

/** The geometry of the adjoint Conv: from Y's spatial sizes (its input) to X's (its output). */
function adjointGeometry(ctx: GradContext, wShape: readonly number[]): ConvGeometry {
  const kernel = ctx.attrs.ints('kernel_shape') ?? wShape.slice(2)
  const x = ctx.inputShape(0).slice(2)
  const spec = readGeometry(ctx, 'the output geometry', (view) => transposedSpec(view, kernel))
  const { out, padsBegin } = transposedGeometry(x, spec)
  if (padsBegin.some((p) => p < 0))
    ctx.fail(`output_shape [${out}] starts before the first output position (a negative begin pad)`)
  const end = x.map((n, i) =>
    Math.max(0, spec.strides[i] * (n - 1) + (kernel[i] - 1) * spec.dilations[i] + 1 - out[i] - padsBegin[i]),
  )
  const { strides, dilations } = spec
  return { kernel, strides, dilations, pads: [...padsBegin, ...end], input: out, output: x }
}

/**
 * conv(g, W) with the adjoint geometry, cropped to X's size where Y reaches past what X feeds: only
 * when output_padding ≥ stride, which ONNX and PyTorch allow below the dilation and the reference
 * interpreter runs, but onnxruntime refuses in the forward (so no onnxruntime-checked case has it).
 */
function adjointConv(ctx: GradContext, g: string, geo: ConvGeometry, group: number): string {
  const e = ctx.emit
  const k = geo.kernel.length
  const dx = e.op('Conv', [g, ctx.input(1)], {
    dilations: attr.ints(geo.dilations),
    group: attr.int(group),
    kernel_shape: attr.ints(geo.kernel),
    pads: attr.ints(geo.pads),
    strides: attr.ints(geo.strides),
  })
  const reach = geo.input.map((n, i) => {
    const span = (geo.kernel[i] - 1) * geo.dilations[i] + 1
    return Math.floor((n + geo.pads[i] + geo.pads[k + i] - span) / geo.strides[i]) + 1
  })
  if (reach.every((r, i) => r === geo.output[i])) return dx
  return e.op('Slice', [dx, e.ints(range(k, 0).map(() => 0)), e.ints(geo.output), e.ints(range(k, 2))])
}
