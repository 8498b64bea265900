/**
 * ConvTranspose: every input element scatters W's taps into the output (the adjoint of Conv), for
 * any number of spatial dims, with groups, strides, dilations, pads, output_padding and output_shape.
 */
import { transposedGeometry } from '../ops/geometry.ts'
import { transposedSpec } from '../ops/shape/nn.ts'
import { numel } from '../tensor.ts'
import type { Kernel } from './kernel.ts'
import { concreteShapeContext } from './shape-of.ts'
import { fromF64, mapIndex, stridesOf, toF64 } from './values.ts'

export const convTranspose: Kernel = (ctx) => {
  const x = ctx.input(0)
  const w = ctx.input(1)
  const [n, c] = x.shape
  const group = ctx.attrs.int('group')
  const mg = w.shape[1]
  const m = mg * group
  if (w.shape[0] !== c || c % group !== 0)
    ctx.fail(`X has ${c} channels, W [${w.shape}] with group ${group} does not fit`)
  const kernel = ctx.attrs.ints('kernel_shape') ?? w.shape.slice(2)
  const spec = transposedSpec(concreteShapeContext(ctx), kernel)
  const inSpatial = x.shape.slice(2)
  const { out, padsBegin } = transposedGeometry(inSpatial, spec)
  const taps: number[][] = []
  mapIndex(kernel, (t) => taps.push([...t]))
  const inPositions: number[][] = []
  mapIndex(inSpatial, (p) => inPositions.push([...p]))
  // target[i * taps + t]: the output offset tap t of input position i lands on, or -1 outside
  const ost = stridesOf(out)
  const target = new Int32Array(inPositions.length * taps.length)
  inPositions.forEach((p, i) => {
    taps.forEach((t, k) => {
      let off = 0
      for (let d = 0; d < p.length && off >= 0; d++) {
        const q = p[d] * spec.strides[d] + t[d] * spec.dilations[d] - padsBegin[d]
        off = q >= 0 && q < out[d] ? off + q * ost[d] : -1
      }
      target[i * taps.length + k] = off
    })
  })
  const xv = toF64(x)
  const wv = toF64(w)
  const plane = numel(inSpatial)
  const outPlane = numel(out)
  const y = new Float64Array(n * m * outPlane)
  const cg = c / group
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const g = Math.floor(ch / cg)
      for (let j = 0; j < mg; j++) {
        const yBase = (b * m + g * mg + j) * outPlane
        const wBase = (ch * mg + j) * taps.length
        for (let i = 0; i < plane; i++) {
          const xi = xv[(b * c + ch) * plane + i]
          for (let k = 0; k < taps.length; k++) {
            const off = target[i * taps.length + k]
            if (off >= 0) y[yBase + off] += xi * wv[wBase + k]
          }
        }
      }
    }
  }
  const bias = ctx.inputs[2] ? toF64(ctx.inputs[2]) : undefined
  if (bias) for (let k = 0; k < y.length; k++) y[k] += bias[Math.floor(k / outPlane) % m]
  return [fromF64(x.dtype, [n, m, ...out], y)]
}
