import { isResampled, type ResizeTap, resizeTaps } from '../../ops/resize-taps.ts'
import { resizeTargets } from '../../ops/shape/resize.ts'
import type { GradContext, GradRule } from '../rule.ts'
import { readGeometry } from './shape-view.ts'

/**
 * Resize is linear in its data and separable: along each resampled axis, y = M·x for the constant
 * sampling matrix M that the reference kernel's plan (resizeTaps) describes — nearest, linear or
 * cubic, under every coordinate transform it supports. The data gradient applies Mᵀ axis by axis.
 * An integer nearest upsample that repeats each element r times in a row (PyTorch's Upsample:
 * asymmetric + floor) is summed back by Reshape + ReduceSum; any other plan becomes a MatMul with
 * Mᵀ, exact and cheap at the sizes images are resized at. roi, scales and sizes get no gradient.
 */
export const resizeGrad: GradRule = {
  opType: 'Resize',
  inputsToSave: [],
  grad(ctx) {
    if (!ctx.needsGrad(0)) return []
    if (ctx.attrs.int('antialias') === 1) ctx.fail('antialias is not supported')
    const input = ctx.inputShape(0)
    const output = ctx.outputShape(0)
    const scales = ctx.hasInput(3) ? output.map((d, i) => d / input[i]) : givenScales(ctx, input, output)
    const taps = input.map((n, axis) =>
      isResampled(n, output[axis], scales[axis]) ? resizeTaps(ctx, n, output[axis], scales[axis]) : undefined,
    )
    const repeats = taps.map((t, axis) => (t === undefined ? undefined : repeatsOf(t, input[axis])))
    let g = sumRepeats(ctx, ctx.dyOrZeros(0), output, repeats)
    const shape = output.map((d, i) => (repeats[i] === undefined ? d : input[i]))
    taps.forEach((t, axis) => {
      if (t === undefined || repeats[axis] !== undefined) return
      g = sampleBack(ctx, g, shape, axis, t, input[axis])
      shape[axis] = input[axis]
    })
    return [g]
  },
}

/**
 * The scales input's values per axis, read as shape inference reads them. With sizes instead, the
 * scale is output / input (what resizeTargets derives), which the static shapes give without
 * reading the sizes (TorchScript computes them with Shape → Slice → Concat for `size=`).
 */
function givenScales(ctx: GradContext, input: number[], output: number[]): number[] {
  const { out, scales } = readGeometry(ctx, 'scales', (view) => resizeTargets(view, input))
  if (out.some((d, i) => d !== output[i])) ctx.fail('scales must be known before run time')
  return scales
}

/** Whether output q reads input ⌊q / repeats⌋ alone, at weight 1: a plain repeat of each element. */
function repeatsOf(taps: readonly ResizeTap[], inLen: number): number | undefined {
  const repeats = taps.length / inLen
  if (!Number.isInteger(repeats)) return undefined
  const plain = taps.every(
    (t, q) => t.index.length === 1 && t.weight[0] === 1 && t.index[0] === Math.floor(q / repeats),
  )
  return plain ? repeats : undefined
}

/**
 * g (of `shape`) summed over each group of `repeats[axis]` neighbours along the axes that repeat
 * their elements: one Reshape that splits those axes and one ReduceSum over all the splits.
 */
function sumRepeats(
  ctx: GradContext,
  g: string,
  shape: readonly number[],
  repeats: readonly (number | undefined)[],
): string {
  if (repeats.every((r) => r === undefined)) return g
  const split: number[] = []
  const summed: number[] = []
  shape.forEach((d, axis) => {
    const r = repeats[axis]
    if (r === undefined) split.push(d)
    else {
      split.push(d / r, r)
      summed.push(split.length - 1)
    }
  })
  return ctx.emit.reduceSum(ctx.emit.reshape(g, split), summed, false)
}

/** g (of `shape`) with Mᵀ applied along `axis` by a MatMul, giving `inLen` there. */
function sampleBack(
  ctx: GradContext,
  g: string,
  shape: readonly number[],
  axis: number,
  taps: readonly ResizeTap[],
  inLen: number,
): string {
  const e = ctx.emit
  const outLen = taps.length
  // sampling[q, i]: the weight output q gives input i (clamped taps may repeat an index: they add)
  const sampling = new Float64Array(outLen * inLen)
  taps.forEach((t, q) => {
    t.index.forEach((i, k) => {
      sampling[q * inLen + i] += t.weight[k]
    })
  })
  const dtype = ctx.outputDtype(0)
  const last = shape.length - 1
  if (axis === last - 1) {
    const transposed = new Float64Array(inLen * outLen)
    for (let q = 0; q < outLen; q++)
      for (let i = 0; i < inLen; i++) transposed[i * outLen + q] = sampling[q * inLen + i]
    return e.op('MatMul', [e.floats([inLen, outLen], transposed, dtype, 'resize_t'), g])
  }
  const matrix = e.floats([outLen, inLen], sampling, dtype, 'resize')
  if (axis === last) return e.op('MatMul', [g, matrix])
  const swap = shape.map((_, i) => (i === axis ? last : i === last ? axis : i))
  return e.transpose(e.op('MatMul', [e.transpose(g, swap), matrix]), swap)
}
