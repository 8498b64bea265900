/**
 * LSTM, GRU and RNN (layout 0), one time step after another as the ONNX spec writes them, float64
 * inside. ops/recurrent.ts decides which nodes are computed; sequence_lens must equal the length.
 */
import { type RecurrentActivation, type RecurrentSpec, readRecurrent } from '../ops/recurrent.ts'
import { UnsupportedOpError } from '../ops/errors.ts'
import type { Kernel, KernelContext } from './kernel.ts'
import { sigmoid } from './math.ts'
import { fromF64, toF64 } from './values.ts'

const ACTIVATE: Readonly<Record<RecurrentActivation, (v: number) => number>> = {
  Sigmoid: sigmoid,
  Tanh: Math.tanh,
  Relu: (v) => Math.max(0, v),
}

/** One direction's weights and state while its time steps run. */
interface Step {
  spec: RecurrentSpec
  batch: number
  hidden: number
  /** [batch, hidden], updated in place by each step */
  h: Float64Array
  /** LSTM only: [batch, hidden] */
  c: Float64Array
  /** x·Wᵀ + Wb and h·Rᵀ + Rb of this step, [batch, gates·hidden] */
  xw: Float64Array
  hr: Float64Array
  /** R of this direction, [gates·hidden, hidden], and its bias Rb */
  r: Float64Array
  rBias: Float64Array
  act: ((v: number) => number)[]
}

/** out[b, j] = bias[j] + Σ_k input[b, k]·weights[j, k], the weights row-major [rows, inner]. */
function affine(
  out: Float64Array,
  input: Float64Array,
  weights: Float64Array,
  bias: Float64Array,
  inner: number,
) {
  const rows = bias.length
  const batch = out.length / rows
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < rows; j++) {
      let sum = bias[j]
      for (let k = 0; k < inner; k++) sum += input[b * inner + k] * weights[j * inner + k]
      out[b * rows + j] = sum
    }
  }
}

/** Gates i, o, f, c: C = f⊙C + i⊙g(c̃), H = o⊙h(C). */
function lstmStep(s: Step): void {
  const [f, g, hAct] = s.act
  const H = s.hidden
  for (let b = 0; b < s.batch; b++) {
    const row = b * 4 * H
    for (let j = 0; j < H; j++) {
      const gate = (k: number) => s.xw[row + k * H + j] + s.hr[row + k * H + j]
      const c = f(gate(2)) * s.c[b * H + j] + f(gate(0)) * g(gate(3))
      s.c[b * H + j] = c
      s.h[b * H + j] = f(gate(1)) * hAct(c)
    }
  }
}

/** Gates z, r, h: H = (1 − z)⊙h̃ + z⊙H, the reset applied before or after the recurrent product. */
function gruStep(s: Step): void {
  const [f, g] = s.act
  const H = s.hidden
  const next = new Float64Array(H)
  const reset = new Float64Array(H)
  for (let b = 0; b < s.batch; b++) {
    const row = b * 3 * H
    const h = s.h.subarray(b * H, (b + 1) * H)
    for (let k = 0; k < H; k++) reset[k] = f(s.xw[row + H + k] + s.hr[row + H + k])
    for (let j = 0; j < H; j++) {
      let recurrentPart: number
      if (s.spec.linearBeforeReset) recurrentPart = reset[j] * s.hr[row + 2 * H + j]
      else {
        recurrentPart = s.rBias[2 * H + j]
        for (let k = 0; k < H; k++) recurrentPart += reset[k] * h[k] * s.r[(2 * H + j) * H + k]
      }
      const candidate = g(s.xw[row + 2 * H + j] + recurrentPart)
      const z = f(s.xw[row + j] + s.hr[row + j])
      next[j] = (1 - z) * candidate + z * h[j]
    }
    h.set(next)
  }
}

function rnnStep(s: Step): void {
  const [f] = s.act
  for (let i = 0; i < s.h.length; i++) s.h[i] = f(s.xw[i] + s.hr[i])
}

const STEP = { LSTM: lstmStep, GRU: gruStep, RNN: rnnStep }

/** Omitted sequence_lens, or every entry the full length: shorter sequences are not computed. */
function checkSequenceLens(ctx: KernelContext, seq: number): void {
  const lens = ctx.inputs[4]
  if (lens === undefined) return
  const values = Array.from(lens.data as ArrayLike<number | bigint>, Number)
  if (values.some((v) => v !== seq))
    throw new UnsupportedOpError(ctx.node, `sequence_lens [${values}] other than the length ${seq}`)
}

/** The node's operands as float64 arrays, with their sizes checked against X. */
function operands(ctx: KernelContext, spec: RecurrentSpec) {
  const [x, w, r] = [ctx.input(0), ctx.input(1), ctx.input(2)]
  const [seq, batch, input] = x.shape
  const hidden = r.shape[2]
  const stacked = spec.gates * hidden
  const directions = spec.reverse.length
  if (
    `${w.shape}` !== `${[directions, stacked, input]}` ||
    `${r.shape}` !== `${[directions, stacked, hidden]}`
  )
    ctx.fail(`W [${w.shape}] and R [${r.shape}] do not fit X [${x.shape}] and ${directions} direction(s)`)
  checkSequenceLens(ctx, seq)
  const state = directions * batch * hidden
  const optional = (i: number, size: number) => {
    const t = ctx.inputs[i]
    return t === undefined ? new Float64Array(size) : toF64(t)
  }
  return {
    sizes: { seq, batch, input, hidden, stacked, directions },
    dtype: x.dtype,
    values: { x: toF64(x), w: toF64(w), r: toF64(r) },
    bias: optional(3, directions * 2 * stacked),
    h0: optional(5, state),
    c0: optional(6, state),
  }
}

const recurrent: Kernel = (ctx) => {
  const spec = readRecurrent(ctx.node, ctx.attrs)
  const { sizes, dtype, values, bias, h0, c0 } = operands(ctx, spec)
  const { seq, batch, input, hidden, stacked, directions } = sizes
  const per = batch * hidden
  const y = new Float64Array(seq * directions * per)
  const [yh, yc] = [new Float64Array(directions * per), new Float64Array(directions * per)]
  for (let d = 0; d < directions; d++) {
    const part = (v: Float64Array, size: number) => v.subarray(d * size, (d + 1) * size)
    const [wBias, rBias] = [
      part(bias, 2 * stacked).subarray(0, stacked),
      part(bias, 2 * stacked).subarray(stacked),
    ]
    const w = part(values.w, stacked * input)
    const s: Step = {
      spec,
      batch,
      hidden,
      h: part(h0, per).slice(),
      c: part(c0, per).slice(),
      xw: new Float64Array(batch * stacked),
      hr: new Float64Array(batch * stacked),
      r: part(values.r, stacked * hidden),
      rBias,
      act: spec.activations[d].map((a) => ACTIVATE[a]),
    }
    for (let step = 0; step < seq; step++) {
      const t = spec.reverse[d] ? seq - 1 - step : step
      affine(s.xw, values.x.subarray(t * batch * input, (t + 1) * batch * input), w, wBias, input)
      affine(s.hr, s.h, s.r, s.rBias, hidden)
      STEP[spec.op](s)
      y.set(s.h, (t * directions + d) * per)
    }
    yh.set(s.h, d * per)
    yc.set(s.c, d * per)
  }
  const state = [directions, batch, hidden]
  const out = [fromF64(dtype, [seq, ...state], y), fromF64(dtype, state, yh)]
  return spec.op === 'LSTM' ? [...out, fromF64(dtype, state, yc)] : out
}

export const RECURRENT_KERNELS: Record<string, Kernel> = { LSTM: recurrent, GRU: recurrent, RNN: recurrent }
