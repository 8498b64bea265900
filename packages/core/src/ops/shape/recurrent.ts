/** Shape functions of LSTM, GRU and RNN (layout 0: X is [seq, batch, input]). */
import type { Dim } from '../../graph/types.ts'
import { isFloat } from '../../tensor.ts'
import { dimArith, showShape } from '../dims.ts'
import { RECURRENT_INPUT, readRecurrent } from '../recurrent.ts'
import type { ShapeFn } from './context.ts'

const agree = (a: Dim, b: Dim): boolean => a === b || typeof a === 'string' || typeof b === 'string'

/** Y [seq, directions, batch, hidden]; Y_h and Y_c [directions, batch, hidden]. */
const recurrent: ShapeFn = (ctx) => {
  const spec = readRecurrent(ctx.node, ctx.attrs)
  const x = ctx.shape(RECURRENT_INPUT.X)
  const r = ctx.shape(RECURRENT_INPUT.R)
  const dtype = ctx.dtype(RECURRENT_INPUT.X)
  if (!isFloat(dtype)) ctx.fail(`X must be a float tensor, found ${dtype}`)
  if (x.length !== 3) ctx.fail(`X must be [seq, batch, input], found ${showShape(x)}`)
  if (r.length !== 3) ctx.fail(`R must be [directions, gates·hidden, hidden], found ${showShape(r)}`)
  const [seq, batch, input] = x
  const directions = spec.reverse.length
  const hidden = spec.hidden ?? r[2]
  const stacked = dimArith('*', spec.gates, hidden)
  const expect = (i: number, what: string, want: Dim[]) => {
    if (!ctx.has(i)) return
    const s = ctx.shape(i)
    if (s.length !== want.length || !s.every((d, k) => agree(d, want[k])))
      ctx.fail(`${what} must be ${showShape(want)}, found ${showShape(s)}`)
    const wantDtype = i === RECURRENT_INPUT.sequenceLens ? 'int32' : dtype
    if (ctx.dtype(i) !== wantDtype) ctx.fail(`${what} must be ${wantDtype}, found ${ctx.dtype(i)}`)
  }
  expect(RECURRENT_INPUT.W, 'W', [directions, stacked, input])
  expect(RECURRENT_INPUT.R, 'R', [directions, stacked, hidden])
  expect(RECURRENT_INPUT.B, 'B', [directions, dimArith('*', 2, stacked)])
  expect(RECURRENT_INPUT.sequenceLens, 'sequence_lens', [batch])
  expect(RECURRENT_INPUT.initialH, 'initial_h', [directions, batch, hidden])
  if (spec.op === 'LSTM') expect(RECURRENT_INPUT.initialC, 'initial_c', [directions, batch, hidden])
  const state = { dtype, shape: [directions, batch, hidden] }
  const y = { dtype, shape: [seq, directions, batch, hidden] }
  return spec.op === 'LSTM' ? [y, state, state] : [y, state]
}

export const RECURRENT_SHAPES: Record<string, ShapeFn> = { LSTM: recurrent, GRU: recurrent, RNN: recurrent }
