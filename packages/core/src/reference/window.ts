/**
 * The sliding-window walk shared by Conv and the pools, for any number of spatial dims: for each
 * output position, the input offsets (or -1 in the padding) of every kernel tap.
 */
import { type WindowGeometry, type WindowSpec, windowGeometry } from '../ops/geometry.ts'
import { windowSpec } from '../ops/shape/nn.ts'
import { numel } from '../tensor.ts'
import type { KernelContext } from './kernel.ts'
import { concreteShapeContext } from './shape-of.ts'
import { mapIndex, stridesOf } from './values.ts'

export interface Window extends WindowGeometry {
  spec: WindowSpec
  inSpatial: number[]
  /** number of kernel taps */
  taps: number
  /** taps[outPos * taps + t]: offset in one input plane, or -1 where the tap falls in the padding */
  offsets: Int32Array
  /** per output position, how many taps fall inside the padded extent (count_include_pad divisor) */
  paddedCount: Int32Array
}

export function slidingWindow(ctx: KernelContext, inSpatial: number[], kernel: number[]): Window {
  const spec = windowSpec(concreteShapeContext(ctx), kernel)
  const geo = windowGeometry(inSpatial, spec)
  if (geo.out.some((d) => d <= 0)) ctx.fail(`window [${kernel}] does not fit input [${inSpatial}]`)
  const taps = numel(kernel)
  const tapIdx: number[][] = []
  mapIndex(kernel, (idx) => tapIdx.push([...idx]))
  const st = stridesOf(inSpatial)
  const outCount = numel(geo.out)
  const offsets = new Int32Array(outCount * taps)
  const paddedCount = new Int32Array(outCount)
  let o = 0
  mapIndex(geo.out, (pos) => {
    for (let t = 0; t < taps; t++) {
      let off = 0
      let inPadded = true
      for (let d = 0; d < pos.length; d++) {
        const p = pos[d] * spec.strides[d] - geo.padsBegin[d] + tapIdx[t][d] * spec.dilations[d]
        if (p >= inSpatial[d] + geo.padsEnd[d]) inPadded = false
        if (off >= 0 && p >= 0 && p < inSpatial[d]) off += p * st[d]
        else off = -1
      }
      offsets[o * taps + t] = off
      if (inPadded) paddedCount[o]++
    }
    o++
    return 0
  })
  return { ...geo, spec, inSpatial, taps, offsets, paddedCount }
}
