/**
 * Gradient cases of LSTM, GRU and RNN: the finite differences run each op's reference kernel, the
 * analytic side its unrolling into primitives (see gradcheck.ts). Tiny on purpose: seq 3, batch 2,
 * input 3, hidden 2.
 */
import { type Attribute, attr, type Node } from '../src/graph/types.ts'
import { GATES, type RecurrentOp } from '../src/ops/recurrent.ts'
import { type Tensor, tensor } from '../src/tensor.ts'
import { type Case, type Draw, helper, ints } from './grad-case-kit.ts'
import { node } from './ops-helpers.ts'

const SEQ = 3
const BATCH = 2
const INPUT = 3
const HIDDEN = 2

interface Layer {
  op: RecurrentOp
  bidirectional?: boolean
  /** give B, initial_h (and initial_c for LSTM) */
  full?: boolean
  /** give sequence_lens, every entry the length */
  lens?: boolean
  /** the node's outputs ('' for unused ones) */
  outputs: string[]
  attrs?: Record<string, Attribute>
}

/** The layer's node and its parameters, named with `prefix`; `x` is its input [SEQ, BATCH, input]. */
function layer(p: Draw, spec: Layer, x: string, input: number, prefix = '') {
  const dirs = spec.bidirectional ? 2 : 1
  const stacked = GATES[spec.op] * HIDDEN
  const name = (n: string) => `${prefix}${n}`
  const params = {
    [name('w')]: p([dirs, stacked, input]),
    [name('r')]: p([dirs, stacked, HIDDEN]),
    ...(spec.full ? { [name('b')]: p([dirs, 2 * stacked]), [name('h0')]: p([dirs, BATCH, HIDDEN]) } : {}),
    ...(spec.full && spec.op === 'LSTM' ? { [name('c0')]: p([dirs, BATCH, HIDDEN]) } : {}),
  }
  const constants = spec.lens ? { [name('lens')]: tensor('int32', [BATCH], Int32Array.of(SEQ, SEQ)) } : {}
  const given = (n: string) => (n in params || n in constants ? n : '')
  const inputs = [x, name('w'), name('r'), given(name('b')), given(name('lens')), given(name('h0'))]
  if (spec.op === 'LSTM') inputs.push(given(name('c0')))
  while (inputs[inputs.length - 1] === '') inputs.pop()
  const attributes = {
    hidden_size: attr.int(HIDDEN),
    ...(spec.bidirectional ? { direction: attr.string('bidirectional') } : {}),
    ...spec.attrs,
  }
  return { params, constants, node: node(spec.op, inputs, spec.outputs, attributes) }
}

/** One recurrent node on a drawn X; `tail` are helper nodes that turn its outputs into `y`. */
const single =
  (spec: Layer, tail: Node[] = [], tailConstants: Record<string, Tensor> = {}): Case =>
  (p) => {
    const l = layer(p, spec, 'x', INPUT)
    return {
      params: { x: p([SEQ, BATCH, INPUT]), ...l.params },
      constants: { ...l.constants, ...tailConstants },
      nodes: [l.node, ...tail.map(helper)],
      output: tail.length ? 'y' : (spec.outputs.find((o) => o !== '') as string),
    }
  }

/** Y_h and Y_c (or Y and Y_h) joined into `y`. */
const joined = (a: string, b: string, axis: number) => [
  node('Concat', [a, b], ['y'], { axis: attr.int(axis) }),
]

/**
 * Two bidirectional LSTM layers as PyTorch exports nn.LSTM(num_layers=2, bidirectional=True): the
 * first layer's Y [seq, 2, batch, hidden] becomes the second's X [seq, batch, 2·hidden].
 */
const stacked: Case = (p) => {
  const first = layer(p, { op: 'LSTM', bidirectional: true, outputs: ['y1'] }, 'x', INPUT, 'l0.')
  const second = layer(
    p,
    { op: 'LSTM', bidirectional: true, full: true, outputs: ['y'] },
    'x1',
    2 * HIDDEN,
    'l1.',
  )
  return {
    params: { x: p([SEQ, BATCH, INPUT]), ...first.params, ...second.params },
    constants: { shape: ints([0, 0, -1]) },
    nodes: [
      first.node,
      helper(node('Transpose', ['y1'], ['t1'], { perm: attr.ints([0, 2, 1, 3]) })),
      helper(node('Reshape', ['t1', 'shape'], ['x1'])),
      second.node,
    ],
    output: 'y',
  }
}

export const RECURRENT_CASES: Record<string, Case> = {
  'LSTM (forward, Y)': single({ op: 'LSTM', outputs: ['y'] }),
  'LSTM (bidirectional, B, initial states, Y_h and Y_c)': single(
    { op: 'LSTM', bidirectional: true, full: true, outputs: ['', 'yh', 'yc'] },
    joined('yh', 'yc', 0),
  ),
  'LSTM (reverse, sequence_lens, all outputs)': single(
    {
      op: 'LSTM',
      full: true,
      lens: true,
      outputs: ['all', 'yh', 'yc'],
      attrs: { direction: attr.string('reverse') },
    },
    [
      node('ReduceSum', ['all', 'axes'], ['ysum'], { keepdims: attr.int(0) }),
      node('Add', ['ysum', 'yh'], ['sum1']),
      node('Add', ['sum1', 'yc'], ['y']),
    ],
    { axes: ints([0, 1]) },
  ),
  'LSTM (two stacked bidirectional layers)': stacked,
  'GRU (forward, Y)': single({ op: 'GRU', outputs: ['y'] }),
  'GRU (linear_before_reset, bidirectional, B, initial_h, Y and Y_h)': single(
    {
      op: 'GRU',
      bidirectional: true,
      full: true,
      outputs: ['all', 'yh'],
      attrs: { linear_before_reset: attr.int(1) },
    },
    [node('Reshape', ['all', 'shape3'], ['flat']), ...joined('flat', 'yh', 0)],
    { shape3: ints([-1, BATCH, HIDDEN]) },
  ),
  'GRU (B, initial_h, Y_h)': single({ op: 'GRU', full: true, outputs: ['', 'y'] }),
  'RNN (forward, Y)': single({ op: 'RNN', outputs: ['y'] }),
  'RNN (bidirectional, B, initial_h, Relu/Tanh, Y_h)': single({
    op: 'RNN',
    bidirectional: true,
    full: true,
    outputs: ['', 'y'],
    attrs: { activations: attr.strings(['Relu', 'Tanh']) },
  }),
}
