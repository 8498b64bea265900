/** Constant, ConstantOfShape, Range, Shape, Size and Dropout (seeded masks in training mode). */
import { seededRandom } from '../builder/init.ts'
import { constantValue } from '../ops/shape/generators.ts'
import { numel, tensor, zeros } from '../tensor.ts'
import type { Kernel } from './kernel.ts'
import { fromF64, ints, scalar, toF64 } from './values.ts'

const constantOfShape: Kernel = (ctx) => {
  const shape = ints(ctx.input(0))
  const value = ctx.attrs.tensor('value')
  if (!value) return [zeros('float32', shape)]
  return [fromF64(value.dtype, shape, new Float64Array(numel(shape)).fill(toF64(value)[0]))]
}

const range: Kernel = (ctx) => {
  const [start, limit, delta] = [0, 1, 2].map((i) => scalar(ctx.input(i)))
  if (delta === 0) ctx.fail('delta must not be 0')
  const n = Math.max(0, Math.ceil((limit - start) / delta))
  return [
    fromF64(
      ctx.input(0).dtype,
      [n],
      Float64Array.from({ length: n }, (_, i) => start + i * delta),
    ),
  ]
}

const shape: Kernel = (ctx) => {
  const s = ctx.input(0).shape
  const clampIndex = (i: number) => Math.min(Math.max(i < 0 ? i + s.length : i, 0), s.length)
  const start = clampIndex(ctx.attrs.int('start'))
  const end = clampIndex(ctx.attrs.optInt('end') ?? s.length)
  const dims = s.slice(start, Math.max(start, end))
  return [fromF64('int64', [dims.length], dims)]
}

/**
 * Dropout: the identity (mask all true) unless training_mode is true; then each element is kept
 * with probability 1 − ratio and scaled by 1/(1 − ratio). The mask depends only on the seed (the
 * node's `seed`, else options.seed, else 0), so repeated runs — finite differences — see one mask.
 */
const dropout: Kernel = (ctx) => {
  const x = ctx.input(0)
  const ratio = ctx.opset >= 12 ? (ctx.inputs[1] ? scalar(ctx.inputs[1]) : 0.5) : ctx.attrs.float('ratio')
  const training = ctx.opset >= 12 && ctx.inputs[2] !== undefined && scalar(ctx.inputs[2]) !== 0
  const mask = zeros('bool', x.shape)
  if (!training || ratio === 0) {
    mask.data.fill(1)
    return [x, mask]
  }
  if (!(ratio >= 0 && ratio < 1)) ctx.fail(`ratio ${ratio} must be in [0, 1)`)
  // seeded, so that a mask is reproducible (not cryptographic)
  const rand = seededRandom(ctx.attrs.optInt('seed') ?? ctx.options.seed ?? 0)
  const v = toF64(x)
  const scale = 1 / (1 - ratio)
  for (let i = 0; i < v.length; i++) {
    const keep = rand() >= ratio
    mask.data[i] = keep ? 1 : 0
    v[i] = keep ? v[i] * scale : 0
  }
  return [fromF64(x.dtype, x.shape, v), mask]
}

export const GENERATOR_KERNELS: Record<string, Kernel> = {
  Constant: (ctx) => [constantValue(ctx.node, ctx.attrs)],
  ConstantOfShape: constantOfShape,
  Range: range,
  Shape: shape,
  Size: (ctx) => [tensor('int64', [], BigInt64Array.of(BigInt(numel(ctx.input(0).shape))))],
  Dropout: dropout,
}
