/**
 * LSTM, GRU and RNN as Atoll computes them: one reading of a node's attributes, shared by shape
 * inference, the reference kernel and the unrolling that autodiff differentiates, so that all three
 * accept and refuse the same nodes.
 *
 * Supported is what PyTorch's exporter writes for nn.LSTM, nn.GRU and nn.RNN: layout 0
 * ([seq, batch, …]), direction forward, reverse or bidirectional, B, initial_h and initial_c given or
 * not, sequence_lens absent or equal to the sequence length for every batch entry, any subset of the
 * outputs, GRU's linear_before_reset 0 or 1, and the activations Sigmoid, Tanh and Relu (the
 * defaults, and nn.RNN's nonlinearity='relu'). Refused with an UnsupportedOpError naming the
 * attribute: clip, peepholes (P), input_forget, activation_alpha/beta and other activations, layout 1.
 */
import type { Node } from '../graph/types.ts'
import type { Attrs } from './attrs.ts'
import { AttributeError, UnsupportedOpError } from './errors.ts'

export type RecurrentOp = 'LSTM' | 'GRU' | 'RNN'
export type RecurrentActivation = 'Sigmoid' | 'Tanh' | 'Relu'

export const RECURRENT_OPS: ReadonlySet<string> = new Set<RecurrentOp>(['LSTM', 'GRU', 'RNN'])

/** Gates stacked in W, R and each half of B: LSTM i, o, f, c; GRU z, r, h; RNN one. */
export const GATES: Readonly<Record<RecurrentOp, number>> = { LSTM: 4, GRU: 3, RNN: 1 }

/** Input positions shared by the three ops (LSTM adds initial_c at 6 and P at 7). */
export const RECURRENT_INPUT = { X: 0, W: 1, R: 2, B: 3, sequenceLens: 4, initialH: 5, initialC: 6, P: 7 }

/** The ONNX defaults: LSTM f, g, h; GRU f, g; RNN f. */
const DEFAULT_ACTIVATIONS: Readonly<Record<RecurrentOp, RecurrentActivation[]>> = {
  LSTM: ['Sigmoid', 'Tanh', 'Tanh'],
  GRU: ['Sigmoid', 'Tanh'],
  RNN: ['Tanh'],
}
const SUPPORTED_ACTIVATIONS: ReadonlySet<string> = new Set(['Sigmoid', 'Tanh', 'Relu'])
const DIRECTIONS: Readonly<Record<string, boolean[]>> = {
  forward: [false],
  reverse: [true],
  bidirectional: [false, true],
}

export interface RecurrentSpec {
  op: RecurrentOp
  gates: number
  /** per direction: whether it runs from the last time step to the first */
  reverse: boolean[]
  /** hidden_size when the node sets it (else it is R's last dim) */
  hidden?: number
  /** per direction, the op's activations in ONNX order (LSTM f, g, h; GRU f, g; RNN f) */
  activations: RecurrentActivation[][]
  /** GRU: apply the reset gate after the recurrent matrix product (PyTorch's form) */
  linearBeforeReset: boolean
}

/** The node's recurrence, or an UnsupportedOpError naming what Atoll does not compute. */
export function readRecurrent(node: Node, attrs: Attrs): RecurrentSpec {
  const op = node.opType as RecurrentOp
  const refuse = (feature: string): never => {
    throw new UnsupportedOpError(node, feature)
  }
  if (attrs.has('clip')) refuse(`attribute 'clip'`)
  for (const name of ['activation_alpha', 'activation_beta'])
    if (attrs.has(name)) refuse(`attribute '${name}'`)
  if (attrs.int('layout') !== 0)
    refuse(`attribute 'layout' = ${attrs.int('layout')} (only 0, [seq, batch, …])`)
  if (op === 'LSTM' && attrs.int('input_forget') !== 0) refuse(`attribute 'input_forget'`)
  if (op === 'LSTM' && (node.inputs[RECURRENT_INPUT.P] ?? '') !== '') refuse(`peepholes (input 'P')`)
  const direction = attrs.string('direction')
  const reverse = DIRECTIONS[direction] ?? refuse(`attribute 'direction' = '${direction}'`)
  const hidden = attrs.optInt('hidden_size')
  if (hidden !== undefined && hidden <= 0)
    throw new AttributeError(node, `hidden_size must be positive, found ${hidden}`)
  const defaults = DEFAULT_ACTIVATIONS[op]
  const given = activationNames(node)
  if (given !== undefined && given.length !== defaults.length * reverse.length) {
    const want = defaults.length * reverse.length
    throw new AttributeError(
      node,
      `activations must name ${want} functions for ${direction}, found ${given.length}`,
    )
  }
  for (const a of given ?? []) if (!SUPPORTED_ACTIVATIONS.has(a)) refuse(`activation '${a}'`)
  const activations = reverse.map(
    (_, d) =>
      (given?.slice(d * defaults.length, (d + 1) * defaults.length) ?? defaults) as RecurrentActivation[],
  )
  const linearBeforeReset = op === 'GRU' && attrs.int('linear_before_reset') !== 0
  return { op, gates: GATES[op], reverse, hidden, activations, linearBeforeReset }
}

function activationNames(node: Node): string[] | undefined {
  const a = node.attributes.activations
  if (a === undefined) return undefined
  if (a.kind !== 'strings')
    throw new AttributeError(node, `attribute 'activations' should be strings, found ${a.kind}`)
  return a.value
}
