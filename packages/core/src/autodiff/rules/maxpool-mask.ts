import type { GradContext } from '../rule.ts'
import { type ConvGeometry, convGeometry, transposedConv } from './conv-geometry.ts'

/**
 * The MaxPool gradient without ScatterElements' reduction (opsets before 16): for each kernel
 * offset k, mask_k marks the outputs whose winning index is the input position under offset k;
 * the masked gradients, stacked as C·K channels, go through one grouped transposed convolution
 * whose weights are one-hot at each offset — so overlapping windows still add up.
 */
export function maxPoolGradByMask(ctx: GradContext, indices: string): string {
  const e = ctx.emit
  const x = ctx.inputShape(0)
  const [n, c] = x
  const kernel = ctx.attrs.ints('kernel_shape') ?? ctx.fail('kernel_shape is required')
  const geo = convGeometry(ctx, kernel)
  const offsets = product(kernel)
  const outputs = product(geo.output)
  const spatial = geo.input.reduce((a, b) => a * b, 1)
  // flat input position (within one image and channel) read by output o under kernel offset k; −1 in padding
  const base = new BigInt64Array(offsets.length * outputs.length)
  offsets.forEach((k, ki) => {
    outputs.forEach((o, oi) => {
      base[ki * outputs.length + oi] = flatPosition(k, o, geo)
    })
  })
  const kCount = offsets.length
  const baseName = e.constant(
    { dtype: 'int64', shape: [1, 1, kCount, ...geo.output], data: base },
    'pool_base',
  )
  const plane = BigInt64Array.from({ length: n * c }, (_, i) => BigInt(i * spatial))
  const planeName = e.constant(
    { dtype: 'int64', shape: [n, c, 1, ...geo.output.map(() => 1)], data: plane },
    'pool_plane',
  )
  // where padding makes base −1, adding the plane offset must not hit a real index: mask it out
  const inside = e.op('GreaterOrEqual', [baseName, e.ints([0])])
  const target = e.op('Add', [baseName, planeName])
  const winner = e.op('Equal', [e.op('Unsqueeze', [indices, e.ints([2])]), target])
  const mask = e.cast(e.op('And', [winner, inside]), ctx.inputDtype(0))
  const g = e.op('Unsqueeze', [ctx.dyOrZeros(0), e.ints([2])])
  const stacked = e.reshape(e.op('Mul', [mask, g]), [n, c * kCount, ...geo.output])
  const oneHot = new Float64Array(c * kCount * kCount)
  for (let ch = 0; ch < c; ch++) for (let k = 0; k < kCount; k++) oneHot[(ch * kCount + k) * kCount + k] = 1
  const wShape = [c * kCount, 1, ...kernel]
  const wTyped = e.floats(wShape, oneHot, ctx.inputDtype(0), 'pool_onehot')
  return transposedConv(ctx, stacked, wTyped, wShape, geo, c)
}

/** The flat input position output `o` reads under kernel offset `k`, or −1 inside the padding. */
function flatPosition(k: number[], o: number[], geo: ConvGeometry): bigint {
  let flat = 0
  for (let a = 0; a < k.length; a++) {
    const pos = o[a] * geo.strides[a] - geo.pads[a] + k[a] * geo.dilations[a]
    if (pos < 0 || pos >= geo.input[a]) return -1n
    flat = flat * geo.input[a] + pos
  }
  return BigInt(flat)
}

/** Every index tuple of a box, row-major. */
function product(dims: number[]): number[][] {
  let out: number[][] = [[]]
  for (const d of dims) out = out.flatMap((t) => Array.from({ length: d }, (_, i) => [...t, i]))
  return out
}
