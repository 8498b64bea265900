import { attr } from '../../graph/types.ts'
import type { GradEmitter } from '../emitter.ts'
import type { GradContext } from '../rule.ts'

/** Per-spatial-axis geometry of a Conv or pooling node, with auto_pad resolved to explicit pads. */
export interface ConvGeometry {
  kernel: number[]
  strides: number[]
  dilations: number[]
  /** begin pads, then end pads (ONNX order) */
  pads: number[]
  /** input and output spatial sizes */
  input: number[]
  output: number[]
}

export function convGeometry(ctx: GradContext, kernel: number[]): ConvGeometry {
  const input = ctx.inputShape(0).slice(2)
  const output = ctx.outputShape(0).slice(2)
  const k = input.length
  const ones = new Array<number>(k).fill(1)
  const strides = ctx.attrs.ints('strides') ?? ones
  const dilations = ctx.attrs.ints('dilations') ?? ones
  const autoPad = ctx.attrs.has('auto_pad') ? ctx.attrs.string('auto_pad') : 'NOTSET'
  let pads = ctx.attrs.ints('pads') ?? new Array<number>(2 * k).fill(0)
  if (autoPad === 'VALID') pads = new Array<number>(2 * k).fill(0)
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array<number>(2 * k).fill(0)
    for (let i = 0; i < k; i++) {
      const total = Math.max(0, (output[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - input[i])
      const small = Math.floor(total / 2)
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small
      pads[k + i] = total - pads[i]
    }
  }
  return { kernel, strides, dilations, pads, input, output }
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i)

/**
 * The transposed convolution of `g` ([N, Cout, out…]) with weights `w` ([Cout, Cin/group, k…]),
 * giving [N, Cin, in…] — the input gradient of a Conv with this geometry — written with Conv alone:
 * g is dilated by the strides (zeros inserted by Unsqueeze + Pad + Reshape), w is flipped and its
 * channel axes swapped per group, and the pads are chosen so the output has exactly the input size.
 */
export function transposedConv(
  ctx: GradContext,
  gradOut: string,
  weight: string,
  wShape: number[],
  geo: ConvGeometry,
  group: number,
): string {
  const e = ctx.emit
  const k = geo.input.length
  if (ctx.convTranspose) {
    const direct = convTransposeNode(ctx, gradOut, weight, geo, group)
    if (direct !== undefined) return direct
  }
  let grad = gradOut
  const batchAndChannels = [ctx.outputShape(0)[0], wShape[0]]
  const sizes = [...geo.output]
  for (let i = 0; i < k; i++) {
    const s = geo.strides[i]
    if (s === 1) continue
    const axis = 2 + i
    const before = [...batchAndChannels, ...sizes]
    grad = e.op('Unsqueeze', [grad, e.ints([axis + 1])])
    const pads = new Array<number>(2 * (before.length + 1)).fill(0)
    pads[before.length + 1 + axis + 1] = s - 1
    grad = e.op('Pad', [grad, e.ints(pads)])
    const stretched = [...before]
    stretched[axis] = sizes[i] * s
    grad = e.reshape(grad, stretched)
    sizes[i] = (sizes[i] - 1) * s + 1
    grad = e.op('Slice', [grad, e.ints([0]), e.ints([sizes[i]]), e.ints([axis])])
  }
  const flipped = e.op('Slice', [
    weight,
    e.ints(geo.kernel.map((d) => d - 1)),
    e.ints(geo.kernel.map((d) => -d - 1)),
    e.ints(range(k, 2)),
    e.ints(geo.kernel.map(() => -1)),
  ])
  const [cout, cinPerGroup] = wShape
  const coutPerGroup = cout / group
  const swapped =
    group === 1
      ? e.transpose(flipped, [1, 0, ...range(k, 2)])
      : e.reshape(
          e.transpose(e.reshape(flipped, [group, coutPerGroup, cinPerGroup, ...geo.kernel]), [
            0,
            2,
            1,
            ...range(k, 3),
          ]),
          [group * cinPerGroup, coutPerGroup, ...geo.kernel],
        )
  const begin = geo.kernel.map((kd, i) => geo.dilations[i] * (kd - 1) - geo.pads[i])
  const end = geo.input.map((n, i) => n - sizes[i] + geo.pads[i])
  const convPads = [...begin, ...end].map((p) => Math.max(0, p))
  let dx = e.op('Conv', [grad, swapped], {
    dilations: attr.ints(geo.dilations),
    group: attr.int(group),
    kernel_shape: attr.ints(geo.kernel),
    pads: attr.ints(convPads),
    strides: attr.ints(geo.kernel.map(() => 1)),
  })
  // negative pads (pads wider than the kernel's reach) become a crop of the result
  if ([...begin, ...end].some((p) => p < 0)) {
    const starts = begin.map((p) => Math.max(0, -p))
    dx = e.op('Slice', [
      dx,
      e.ints(starts),
      e.ints(starts.map((s, i) => s + geo.input[i])),
      e.ints(range(k, 2)),
    ])
  }
  return dx
}

/**
 * The same transposed convolution as one ConvTranspose node, with output_padding restoring the
 * input size that the forward's floor division dropped; undefined when that padding would fall
 * outside [0, stride) (pads wider than the kernel's reach), where the Conv form is used instead.
 */
function convTransposeNode(
  ctx: GradContext,
  g: string,
  w: string,
  geo: ConvGeometry,
  group: number,
): string | undefined {
  const k = geo.input.length
  const outputPadding = geo.input.map(
    (n, i) =>
      n -
      ((geo.output[i] - 1) * geo.strides[i] +
        (geo.kernel[i] - 1) * geo.dilations[i] +
        1 -
        geo.pads[i] -
        geo.pads[k + i]),
  )
  if (outputPadding.some((p, i) => p < 0 || p >= Math.max(geo.strides[i], geo.dilations[i]))) return undefined
  return ctx.emit.op('ConvTranspose', [g, w], {
    dilations: attr.ints(geo.dilations),
    group: attr.int(group),
    kernel_shape: attr.ints(geo.kernel),
    output_padding: attr.ints(outputPadding),
    pads: attr.ints(geo.pads),
    strides: attr.ints(geo.strides),
  })
}

/** A Conv's input X and the gradient reaching its output, both [N, channels, …]. */
export interface ConvOperands {
  x: string
  dy: string
  batch: number
}

/**
 * The gradient of a Conv's weights `wShape` ([Cout, Cin/group, k…]) with this geometry: per group,
 * dW[o, c] = Σ_n x[n, c] ⋆ dy[n, o], i.e. X as [Cin/G, G·N, …] convolved (group = G, stride =
 * forward dilation, dilation = forward stride) with dy as [G·Cout/G, N, …], cropped to the kernel
 * and transposed back. Shared by Conv (dW) and ConvTranspose (whose adjoint is a Conv).
 */
export function convWeightGrad(
  emit: GradEmitter,
  { x, dy, batch }: ConvOperands,
  wShape: readonly number[],
  geo: ConvGeometry,
  group: number,
): string {
  const [cout, cinPerGroup] = wShape
  const k = geo.kernel.length
  const xT =
    group === 1
      ? emit.transpose(x, [1, 0, ...range(k, 2)])
      : emit.reshape(
          emit.transpose(emit.reshape(x, [batch, group, cinPerGroup, ...geo.input]), [
            2,
            1,
            0,
            ...range(k, 3),
          ]),
          [cinPerGroup, group * batch, ...geo.input],
        )
  const gT =
    group === 1
      ? emit.transpose(dy, [1, 0, ...range(k, 2)])
      : emit.reshape(
          emit.transpose(emit.reshape(dy, [batch, group, cout / group, ...geo.output]), [
            1,
            2,
            0,
            ...range(k, 3),
          ]),
          [cout, batch, ...geo.output],
        )
  const full = emit.op('Conv', [xT, gT], {
    dilations: attr.ints(geo.strides),
    group: attr.int(group),
    kernel_shape: attr.ints(geo.output),
    pads: attr.ints(geo.pads),
    strides: attr.ints(geo.dilations),
  })
  const cropped = emit.op('Slice', [
    full,
    emit.ints(range(k, 0).map(() => 0)),
    emit.ints(geo.kernel),
    emit.ints(range(k, 2)),
  ])
  return emit.transpose(cropped, [1, 0, ...range(k, 2)])
}
