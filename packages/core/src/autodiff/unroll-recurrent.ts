/**
 * LSTM, GRU and RNN written as primitive ops unrolled over the sequence, whose length is static once
 * the bindings fix the shapes, so that the MatMul, Add, Sub, Mul, Sigmoid, Tanh, Relu, Split,
 * Squeeze, Transpose, Concat and Reshape rules give the gradient: no recurrent rule of its own.
 *
 * Cost per direction: the input projection of every time step is one MatMul over the whole sequence
 * (X·Wᵀ + biases) cut by one Split; each time step then adds the recurrent product and the cell:
 * LSTM 12 nodes (Squeeze, MatMul, Add, 2 Splits, 3 activations, 3 Muls, Add), GRU 13
 * (linear_before_reset=1: 14 with B), RNN 4 — so the forward has about seq × directions × that many
 * nodes, each on [batch, gates·hidden] tensors, and the backward about twice as many (2.1× for an
 * LSTM, 1.8× for a GRU at seq 64). The stage keeps every step's gates and states for the backward,
 * as a hand-written LSTM backward would.
 * An exporter's layer stack is one node per layer, each unrolled on its own.
 */
import { attr, type Graph, type Node, type ValueInfo } from '../graph/types.ts'
import { readAttrs } from '../ops/attrs.ts'
import { UnsupportedOpError } from '../ops/errors.ts'
import { inferTypes } from '../ops/infer.ts'
import { RECURRENT_INPUT, RECURRENT_OPS, type RecurrentSpec, readRecurrent } from '../ops/recurrent.ts'
import type { DType, Tensor } from '../tensor.ts'
import { staticShape } from './context.ts'
import { GradEmitter } from './emitter.ts'

/** What the unrolling reads of the forward: bound shapes and values known before run time. */
interface ForwardValues {
  types: ReadonlyMap<string, ValueInfo>
  constants: ReadonlyMap<string, Tensor>
}

interface Unroll {
  e: GradEmitter
  spec: RecurrentSpec
  node: Node
  seq: number
  batch: number
  hidden: number
  dtype: DType
}

export interface Unrolled {
  graph: Graph
  /** name of each emitted node → name of the recurrent node it helps compute */
  origin: Map<string, string>
}

/**
 * `graph` with every LSTM, GRU and RNN replaced by its unrolled primitives (the same graph when it
 * has none). The emitted nodes keep the recurrent node's scope and write its output names.
 */
export function unrollRecurrentOps(graph: Graph, bindings?: Readonly<Record<string, number>>): Unrolled {
  const origin = new Map<string, string>()
  if (!graph.nodes.some((n) => RECURRENT_OPS.has(n.opType))) return { graph, origin }
  const { types, constants } = inferTypes(graph, { bindings })
  const emit = new GradEmitter(new Set([...types.keys(), ...graph.nodes.map((n) => n.name)]))
  const nodes: Node[] = []
  for (const node of graph.nodes) {
    if (!RECURRENT_OPS.has(node.opType)) {
      nodes.push(node)
      continue
    }
    const start = emit.nodes.length
    emit.scope = node.scope
    emit.hint = node.name
    unrollRecurrent(emit, node, { types, constants })
    for (const n of emit.nodes.slice(start)) {
      nodes.push(n)
      origin.set(n.name, node.name)
    }
  }
  const initializers = new Map<string, Tensor>([...graph.initializers, ...emit.initializers])
  return { graph: { ...graph, nodes, initializers }, origin }
}

/** Emits the primitive nodes that compute `node` (LSTM, GRU or RNN), writing its outputs' names. */
function unrollRecurrent(e: GradEmitter, node: Node, forward: ForwardValues): void {
  const spec = readRecurrent(node, readAttrs(node))
  const input = (i: number) => node.inputs[i] ?? ''
  const [seq, batch] = staticShape(forward.types, input(RECURRENT_INPUT.X))
  const hidden = staticShape(forward.types, input(RECURRENT_INPUT.R))[2]
  const dtype = forward.types.get(input(RECURRENT_INPUT.X))?.dtype ?? 'float32'
  checkFullLength(node, forward.constants, seq)
  const u: Unroll = { e, spec, node, seq, batch, hidden, dtype }
  const directions = spec.reverse.length
  const perDirection = (i: number) => (input(i) === '' ? undefined : splitFirst(u, input(i), directions))
  const [w, r, b, h0, c0] = [
    RECURRENT_INPUT.W,
    RECURRENT_INPUT.R,
    RECURRENT_INPUT.B,
    RECURRENT_INPUT.initialH,
    RECURRENT_INPUT.initialC,
  ].map(perDirection)
  const runs = spec.reverse.map((_, d) => {
    const weights = { w: w?.[d] as string, r: r?.[d] as string, b: b?.[d] }
    const zeros = () => e.zeros([batch, hidden], dtype)
    // GRU and RNN carry no cell state: their `c` is never read
    const states = { h: h0?.[d] ?? zeros(), c: c0?.[d] ?? (spec.op === 'LSTM' ? zeros() : '') }
    return runDirection(u, d, input(RECURRENT_INPUT.X), weights, states)
  })
  writeOutputs(u, runs)
}

/** sequence_lens absent, or a constant equal to the length everywhere. */
function checkFullLength(node: Node, constants: ReadonlyMap<string, Tensor>, seq: number): void {
  const name = node.inputs[RECURRENT_INPUT.sequenceLens] ?? ''
  if (name === '') return
  const lens = constants.get(name)
  const values = lens && Array.from(lens.data as ArrayLike<number | bigint>, Number)
  if (values === undefined || values.some((v) => v !== seq)) {
    const found = values ? `[${values}]` : 'known only at run time'
    throw new UnsupportedOpError(node, `sequence_lens other than the length ${seq} (${found})`)
  }
}

/** The `count` slices of `value` along its first axis, that axis removed. */
function splitFirst(u: Unroll, value: string, count: number): string[] {
  const squeeze = (v: string) => u.e.op('Squeeze', [v, u.e.ints([0])])
  if (count === 1) return [squeeze(value)]
  const parts = u.e.opN('Split', [value, u.e.ints(Array(count).fill(1))], count, { axis: attr.int(0) })
  return parts.map(squeeze)
}

/** Splits axis 1 of a 2-D value into the given widths. */
function splitColumns(u: Unroll, value: string, widths: number[]): string[] {
  return u.e.opN('Split', [value, u.e.ints(widths)], widths.length, { axis: attr.int(1) })
}

interface DirectionRun {
  /** the hidden state of every time step, in time order, [batch, hidden] each */
  hs: string[]
  lastH: string
  lastC: string
}

function runDirection(
  u: Unroll,
  d: number,
  x: string,
  weights: { w: string; r: string; b?: string },
  states: { h: string; c: string },
): DirectionRun {
  const { e, spec, hidden } = u
  const stacked = spec.gates * hidden
  const [wBias, rBias] = weights.b ? splitColumns1d(u, weights.b, stacked) : []
  // GRU with linear_before_reset keeps Rb inside the reset product; everywhere else both add up
  const xBias = wBias && rBias && !spec.linearBeforeReset ? e.op('Add', [wBias, rBias]) : wBias
  let xw = e.op('MatMul', [x, e.transpose(weights.w, [1, 0])])
  if (xBias) xw = e.op('Add', [xw, xBias])
  const steps = splitFirst(u, xw, u.seq)
  const transposed = e.transpose(weights.r, [1, 0])
  // GRU without linear_before_reset multiplies the reset state by Rh alone: split Rᵀ once, not per step
  const rt =
    spec.op === 'GRU' && !spec.linearBeforeReset
      ? splitColumns(u, transposed, [2 * hidden, hidden])
      : [transposed]
  const cell = CELLS[spec.op]
  const act = spec.activations[d]
  const hs: string[] = Array(u.seq)
  let { h, c } = states
  for (let k = 0; k < u.seq; k++) {
    const t = spec.reverse[d] ? u.seq - 1 - k : k
    ;[h, c] = cell({ u, act, xw: steps[t], h, c, rt, rBias: spec.linearBeforeReset ? rBias : undefined })
    hs[t] = h
  }
  return { hs, lastH: h, lastC: c }
}

/** [2·n] → its halves (B's W and R biases). */
function splitColumns1d(u: Unroll, value: string, n: number): string[] {
  return u.e.opN('Split', [value, u.e.ints([n, n])], 2, { axis: attr.int(0) })
}

interface CellInput {
  u: Unroll
  act: string[]
  /** this step's x·Wᵀ + biases, [batch, gates·hidden] */
  xw: string
  h: string
  c: string
  /** Rᵀ, [hidden, gates·hidden]; for GRU without linear_before_reset its z, r and h columns apart */
  rt: string[]
  /** GRU with linear_before_reset: Rb, added to the recurrent product before the reset */
  rBias?: string
}

/** One time step: the new hidden state (and LSTM's cell state). */
type Cell = (s: CellInput) => [string, string]

const lstmCell: Cell = ({ u, act, xw, h, c, rt }) => {
  const { e, hidden: n } = u
  const [f, g, hAct] = act
  const gates = e.op('Add', [xw, e.op('MatMul', [h, rt[0]])])
  const [iof, candidate] = splitColumns(u, gates, [3 * n, n])
  const [i, o, forget] = splitColumns(u, e.op(f, [iof]), [n, n, n])
  const cNext = e.op('Add', [e.op('Mul', [forget, c]), e.op('Mul', [i, e.op(g, [candidate])])])
  return [e.op('Mul', [o, e.op(hAct, [cNext])]), cNext]
}

const gruCell: Cell = ({ u, act, xw, h, c, rt, rBias }) => {
  const { e, hidden: n } = u
  const [f, g] = act
  const [xzr, xh] = splitColumns(u, xw, [2 * n, n])
  const gatesOf = (hzr: string) => splitColumns(u, e.op(f, [e.op('Add', [xzr, hzr])]), [n, n])
  if (u.spec.linearBeforeReset) {
    const product = e.op('MatMul', [h, rt[0]])
    const [hzr, hh] = splitColumns(u, rBias ? e.op('Add', [product, rBias]) : product, [2 * n, n])
    const [z, r] = gatesOf(hzr)
    return [blend(u, z, g, e.op('Add', [xh, e.op('Mul', [r, hh])]), h), c]
  }
  const [rtZr, rtH] = rt
  const [z, r] = gatesOf(e.op('MatMul', [h, rtZr]))
  return [blend(u, z, g, e.op('Add', [xh, e.op('MatMul', [e.op('Mul', [r, h]), rtH])]), h), c]
}

/** H = (1 − z)⊙g(candidate) + z⊙H, written h̃ + z⊙(H − h̃). */
function blend(u: Unroll, z: string, g: string, candidateIn: string, h: string): string {
  const { e } = u
  const candidate = e.op(g, [candidateIn])
  return e.op('Add', [candidate, e.op('Mul', [z, e.op('Sub', [h, candidate])])])
}

const rnnCell: Cell = ({ u, act, xw, h, c, rt }) => [
  u.e.op(act[0], [u.e.op('Add', [xw, u.e.op('MatMul', [h, rt[0]])])]),
  c,
]

const CELLS: Readonly<Record<RecurrentSpec['op'], Cell>> = { LSTM: lstmCell, GRU: gruCell, RNN: rnnCell }

/** Y [seq, directions, batch, hidden], Y_h and Y_c [directions, batch, hidden], under the node's names. */
function writeOutputs(u: Unroll, runs: DirectionRun[]): void {
  const { e, seq, batch, hidden, node } = u
  const [y, yh, yc] = node.outputs
  const directions = runs.length
  if (y) {
    const shape = e.ints([seq, 1, batch, hidden])
    const steps = (run: DirectionRun) => e.op('Concat', run.hs, { axis: attr.int(0) })
    if (directions === 1) e.op('Reshape', [steps(runs[0]), shape], {}, y)
    else
      e.op(
        'Concat',
        runs.map((run) => e.op('Reshape', [steps(run), shape])),
        { axis: attr.int(1) },
        y,
      )
  }
  const stack = (states: string[], out: string) => {
    const joined = states.length === 1 ? states[0] : e.op('Concat', states, { axis: attr.int(0) })
    e.op('Reshape', [joined, e.ints([directions, batch, hidden])], {}, out)
  }
  if (yh)
    stack(
      runs.map((r) => r.lastH),
      yh,
    )
  if (yc && u.spec.op === 'LSTM')
    stack(
      runs.map((r) => r.lastC),
      yc,
    )
}
