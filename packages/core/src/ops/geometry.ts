/**
 * Index arithmetic shared by shape inference and the reference kernels, so that the two can never
 * disagree: Slice ranges and the output sizes and paddings of Conv and pooling windows.
 */

/** ONNX Slice on one axis of size `dim`: the first index and the element count. */
export function resolveSlice(
  dim: number,
  start: number,
  end: number,
  step: number,
): { first: number; count: number } {
  if (step > 0) {
    const s = Math.min(Math.max(start < 0 ? start + dim : start, 0), dim)
    const e = Math.min(Math.max(end < 0 ? end + dim : end, 0), dim)
    return { first: s, count: Math.max(0, Math.ceil((e - s) / step)) }
  }
  const s = Math.min(Math.max(start < 0 ? start + dim : start, 0), dim - 1)
  const e = Math.min(Math.max(end < 0 ? end + dim : end, -1), dim - 1)
  return { first: s, count: Math.max(0, Math.ceil((e - s) / step)) }
}

export interface WindowSpec {
  kernel: number[]
  strides: number[]
  dilations: number[]
  /** [begin..., end...] as in ONNX */
  pads: number[]
  autoPad: string
  ceilMode: boolean
}

export interface WindowGeometry {
  out: number[]
  padsBegin: number[]
  padsEnd: number[]
}

/**
 * Output sizes and effective paddings of a sliding window over `input` spatial dims. With
 * ceil_mode, a last window that would start in the end padding is dropped, as PyTorch and
 * onnxruntime do.
 */
export function windowGeometry(input: number[], spec: WindowSpec): WindowGeometry {
  const n = input.length
  const out: number[] = []
  const padsBegin: number[] = []
  const padsEnd: number[] = []
  for (let i = 0; i < n; i++) {
    const span = (spec.kernel[i] - 1) * spec.dilations[i] + 1
    const s = spec.strides[i]
    if (spec.autoPad === 'SAME_UPPER' || spec.autoPad === 'SAME_LOWER') {
      const o = Math.ceil(input[i] / s)
      const total = Math.max(0, (o - 1) * s + span - input[i])
      const small = Math.floor(total / 2)
      padsBegin.push(spec.autoPad === 'SAME_UPPER' ? small : total - small)
      padsEnd.push(spec.autoPad === 'SAME_UPPER' ? total - small : small)
      out.push(o)
      continue
    }
    const pb = spec.autoPad === 'VALID' ? 0 : (spec.pads[i] ?? 0)
    const pe = spec.autoPad === 'VALID' ? 0 : (spec.pads[i + n] ?? 0)
    const room = input[i] + pb + pe - span
    let o = (spec.ceilMode ? Math.ceil(room / s) : Math.floor(room / s)) + 1
    if (spec.ceilMode && (o - 1) * s >= input[i] + pb) o--
    padsBegin.push(pb)
    padsEnd.push(pe)
    out.push(Math.max(0, o))
  }
  return { out, padsBegin, padsEnd }
}

export interface TransposedSpec {
  kernel: number[]
  strides: number[]
  dilations: number[]
  pads: number[]
  outputPadding: number[]
  /** the output_shape attribute (spatial dims), which overrides pads */
  outputShape?: number[]
  autoPad: string
}

/** Output sizes and leading paddings of ConvTranspose, following the ONNX operator's formulas. */
export function transposedGeometry(
  input: number[],
  spec: TransposedSpec,
): { out: number[]; padsBegin: number[] } {
  const n = input.length
  const out: number[] = []
  const padsBegin: number[] = []
  for (let i = 0; i < n; i++) {
    const span = (spec.kernel[i] - 1) * spec.dilations[i] + 1
    const full = spec.strides[i] * (input[i] - 1) + (spec.outputPadding[i] ?? 0) + span
    const target =
      spec.outputShape?.[i] ?? (spec.autoPad.startsWith('SAME') ? input[i] * spec.strides[i] : undefined)
    if (target === undefined) {
      padsBegin.push(spec.pads[i] ?? 0)
      out.push(full - (spec.pads[i] ?? 0) - (spec.pads[i + n] ?? 0))
      continue
    }
    // a stride wider than the kernel span would need negative padding under SAME; onnxruntime
    // (the backend these graphs run on) clamps it to 0 and shortens the output instead
    const total = spec.outputShape ? full - target : Math.max(0, full - target)
    padsBegin.push(spec.autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2))
    out.push(full - total)
  }
  return { out, padsBegin }
}
