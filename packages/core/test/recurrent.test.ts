/**
 * LSTM, GRU and RNN: the reference kernel against onnxruntime-node on seeded random inputs (each op,
 * each direction, with and without the optional inputs), the unrolling autodiff differentiates
 * against the kernel, and the refusals of what Atoll does not compute.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { buildBackward } from '../src/autodiff/backward.ts'
import { decomposeTrainingOps } from '../src/autodiff/decompose.ts'
import { attr, type Attribute } from '../src/graph/types.ts'
import { GATES, type RecurrentOp } from '../src/ops/recurrent.ts'
import { inferShapes, opCosts } from '../src/ops/index.ts'
import { runNode, runReference } from '../src/reference/index.ts'
import { type DType, type Tensor, tensor } from '../src/tensor.ts'
import { graphOf, node } from './ops-helpers.ts'
import { type Case, compareWithOrt, randn } from './reference-ort.ts'

const SEQ = 4
const BATCH = 2
const INPUT = 3
const HIDDEN = 5

interface Variant {
  op: RecurrentOp
  direction?: 'forward' | 'reverse' | 'bidirectional'
  /** give B, initial_h (and initial_c) */
  full?: boolean
  attrs?: Record<string, Attribute>
}

function recurrentCase(v: Variant, seed: number): Case {
  const dirs = v.direction === 'bidirectional' ? 2 : 1
  const stacked = GATES[v.op] * HIDDEN
  const state = (k: number) => randn([dirs, BATCH, HIDDEN], seed + k, -1, 1)
  const inputs: Record<string, Tensor | null> = {
    x: randn([SEQ, BATCH, INPUT], seed, -1, 1),
    w: randn([dirs, stacked, INPUT], seed + 1, -0.7, 0.7),
    r: randn([dirs, stacked, HIDDEN], seed + 2, -0.7, 0.7),
    b: v.full ? randn([dirs, 2 * stacked], seed + 3, -0.5, 0.5) : null,
  }
  if (v.full) {
    inputs.lens = null
    inputs.h0 = state(4)
    if (v.op === 'LSTM') inputs.c0 = state(5)
  }
  return {
    op: v.op,
    inputs,
    attrs: { hidden_size: attr.int(HIDDEN), direction: attr.string(v.direction ?? 'forward'), ...v.attrs },
    outputs: v.op === 'LSTM' ? 3 : 2,
    opset: 14,
  }
}

const VARIANTS: Variant[] = (['LSTM', 'GRU', 'RNN'] as const).flatMap((op) =>
  (['forward', 'reverse', 'bidirectional'] as const).flatMap((direction) => [
    { op, direction },
    { op, direction, full: true },
  ]),
)
VARIANTS.push(
  { op: 'GRU', direction: 'bidirectional', full: true, attrs: { linear_before_reset: attr.int(1) } },
  { op: 'GRU', full: true, attrs: { linear_before_reset: attr.int(1) } },
  {
    op: 'RNN',
    direction: 'bidirectional',
    full: true,
    attrs: { activations: attr.strings(['Relu', 'Tanh']) },
  },
  {
    op: 'LSTM',
    full: true,
    attrs: { activations: attr.strings(['Sigmoid', 'Tanh', 'Tanh']) },
  },
)

const int32 = (shape: number[], values: number[]) => tensor('int32', shape, Int32Array.from(values))

const describeVariant = (v: Variant) =>
  `${v.op} ${v.direction ?? 'forward'}${v.full ? ' with B and initial state' : ''}${v.attrs ? ` ${Object.keys(v.attrs)}` : ''}`

describe('LSTM, GRU and RNN: reference kernel against onnxruntime', () => {
  VARIANTS.forEach((v, i) => {
    it(describeVariant(v), async () => {
      await compareWithOrt(recurrentCase(v, 100 + 10 * i))
    })
  })
})

describe('LSTM, GRU and RNN: shapes and refusals', () => {
  const graphOfCase = (c: Case) => {
    const inputs = Object.entries(c.inputs)
    return graphOf({
      inputs: Object.fromEntries(
        inputs.flatMap(([n, t]) => (t === null ? [] : [[n, [t.dtype, [...t.shape]] as [DType, number[]]]])),
      ),
      nodes: [
        node(
          c.op,
          inputs.map(([n, t]) => (t === null ? '' : n)),
          ['y', 'yh', 'yc'].slice(0, c.outputs),
          c.attrs,
        ),
      ],
      outputs: ['y'],
    })
  }
  it('infers Y, Y_h and Y_c from X and R without hidden_size', () => {
    const c = recurrentCase({ op: 'LSTM', direction: 'bidirectional', full: true }, 1)
    delete c.attrs?.hidden_size
    const types = inferShapes(graphOfCase(c))
    assert.deepEqual(types.get('y')?.shape, [SEQ, 2, BATCH, HIDDEN])
    assert.deepEqual(types.get('yh')?.shape, [2, BATCH, HIDDEN])
    assert.deepEqual(types.get('yc')?.shape, [2, BATCH, HIDDEN])
  })
  it('rejects weights that do not match hidden_size or the direction', () => {
    const c = recurrentCase({ op: 'GRU' }, 2)
    assert.throws(() => inferShapes(graphOfCase({ ...c, attrs: { ...c.attrs, hidden_size: attr.int(4) } })), {
      name: 'ShapeInferenceError',
      message: /W must be \[1,12,3\], found \[1,15,3\]/,
    })
    const both = { ...c, attrs: { ...c.attrs, direction: attr.string('bidirectional') } }
    assert.throws(() => inferShapes(graphOfCase(both)), {
      name: 'ShapeInferenceError',
      message: /W must be \[2,/,
    })
  })
  const refusals: [string, Variant, Record<string, Attribute>, RegExp][] = [
    ['clip', { op: 'LSTM' }, { clip: attr.float(3) }, /attribute 'clip'/],
    ['input_forget', { op: 'LSTM' }, { input_forget: attr.int(1) }, /attribute 'input_forget'/],
    ['layout 1', { op: 'GRU' }, { layout: attr.int(1) }, /attribute 'layout' = 1/],
    ['another activation', { op: 'RNN' }, { activations: attr.strings(['Affine']) }, /activation 'Affine'/],
    [
      'activation_alpha',
      { op: 'RNN' },
      { activation_alpha: attr.floats([0.5]) },
      /attribute 'activation_alpha'/,
    ],
  ]
  for (const [what, v, attrs, message] of refusals) {
    it(`refuses ${what} with an UnsupportedOpError naming it`, () => {
      const c = recurrentCase(v, 3)
      const g = graphOfCase({ ...c, attrs: { ...c.attrs, ...attrs } })
      assert.throws(() => inferShapes(g), { name: 'UnsupportedOpError', message })
      assert.throws(
        () =>
          runNode(
            g.nodes[0],
            Object.values(c.inputs).map((t) => t ?? undefined),
            14,
          ),
        {
          name: 'UnsupportedOpError',
          message,
        },
      )
    })
  }
  it('the kernel rejects weights that do not fit X', () => {
    const c = recurrentCase({ op: 'RNN' }, 6)
    const g = graphOfCase(c)
    const inputs = [c.inputs.x, randn([1, HIDDEN, INPUT + 1], 8), c.inputs.r].map((t) => t ?? undefined)
    assert.throws(() => runNode(g.nodes[0], inputs, 14), { name: 'KernelError', message: /W \[1,5,4\]/ })
  })
  it('refuses peepholes and sequence_lens shorter than the sequence', () => {
    const c = recurrentCase({ op: 'LSTM', full: true }, 4)
    const withP = { ...c, inputs: { ...c.inputs, p: randn([1, 3 * HIDDEN], 9) } }
    assert.throws(() => inferShapes(graphOfCase(withP)), { name: 'UnsupportedOpError', message: /input 'P'/ })
    const inputs = Object.values({ ...c.inputs, lens: int32([BATCH], [SEQ, SEQ - 1]) }).map(
      (t) => t ?? undefined,
    )
    const g = graphOfCase(c)
    const lstm = { ...g.nodes[0], inputs: ['x', 'w', 'r', 'b', 'lens', 'h0', 'c0'] }
    assert.throws(() => runNode(lstm, inputs, 14), {
      name: 'UnsupportedOpError',
      message: /sequence_lens \[4,3\]/,
    })
    const full = Object.values({ ...c.inputs, lens: int32([BATCH], [SEQ, SEQ]) }).map((t) => t ?? undefined)
    assert.equal(runNode(lstm, full, 14).length, 3)
  })
})

describe('LSTM, GRU and RNN: the unrolling autodiff differentiates', () => {
  /** The variant's one-node graph in float64, its inputs as initializers, every output a graph output. */
  const graphOfVariant = (v: Variant, seq: number) => {
    const c = recurrentCase(v, 7)
    const wide = (t: Tensor): Tensor => ({
      ...t,
      dtype: 'float64',
      data: Float64Array.from(t.data as Float32Array),
    })
    const inputs = Object.entries(c.inputs)
    const x = randn([seq, BATCH, INPUT], 3, -1, 1)
    const outputs = ['y', 'yh', 'yc'].slice(0, c.outputs)
    return graphOf({
      initializers: Object.fromEntries(
        inputs.flatMap(([n, t]) => (t === null ? [] : [[n, wide(n === 'x' ? x : t)]])),
      ),
      nodes: [
        node(
          v.op,
          inputs.map(([n, t]) => (t === null ? '' : n)),
          outputs,
          c.attrs,
        ),
      ],
      outputs,
    })
  }
  for (const v of VARIANTS) {
    it(`computes what the kernel computes: ${describeVariant(v)}`, () => {
      const graph = graphOfVariant(v, SEQ)
      const unrolled = decomposeTrainingOps(graph)
      assert.ok(!unrolled.nodes.some((n) => n.opType === v.op))
      const expected = runReference(graph, {})
      const actual = runReference(unrolled, {})
      for (const o of graph.outputs) {
        assert.deepEqual(actual[o.name].shape, expected[o.name].shape)
        const a = actual[o.name].data as Float64Array
        const e = expected[o.name].data as Float64Array
        const worst = Math.max(...e.map((value, i) => Math.abs(value - a[i])))
        assert.ok(worst < 1e-12, `${o.name}: differs by ${worst}`)
      }
    })
  }
  // the figures unroll-recurrent.ts gives: nodes per time step and direction
  const perStep: [Variant, number][] = [
    [{ op: 'LSTM' }, 12],
    [{ op: 'LSTM', direction: 'bidirectional', full: true }, 12],
    [{ op: 'GRU', full: true }, 13],
    [{ op: 'GRU', full: true, attrs: { linear_before_reset: attr.int(1) } }, 14],
    [{ op: 'GRU', attrs: { linear_before_reset: attr.int(1) } }, 13],
    [{ op: 'RNN', direction: 'bidirectional' }, 4],
  ]
  for (const [v, nodes] of perStep) {
    it(`costs ${nodes} nodes per time step and direction: ${describeVariant(v)}`, () => {
      const count = (seq: number) => decomposeTrainingOps(graphOfVariant(v, seq)).nodes.length
      const directions = v.direction === 'bidirectional' ? 2 : 1
      assert.equal(count(5) - count(4), nodes * directions)
    })
  }
  it('buildBackward alone names the step that unrolls', () => {
    const graph = graphOfVariant({ op: 'RNN' }, SEQ)
    graph.parameters = new Set(['w'])
    assert.throws(() => buildBackward(graph, 'y'), {
      name: 'NoGradientRuleError',
      message: /decomposeTrainingOps/,
    })
    assert.ok(buildBackward(decomposeTrainingOps(graph), 'y').gradients.has('w'))
  })
  it('refuses sequence_lens that are not known to equal the length', () => {
    const graph = graphOfVariant({ op: 'GRU', full: true }, SEQ)
    graph.inputs.push({ name: 'lens', dtype: 'int32', shape: [BATCH] })
    graph.nodes[0] = { ...graph.nodes[0], inputs: ['x', 'w', 'r', 'b', 'lens', 'h0'] }
    assert.throws(() => decomposeTrainingOps(graph), {
      name: 'UnsupportedOpError',
      message: /sequence_lens other than the length 4 \(known only at run time\)/,
    })
  })
})

describe('LSTM, GRU and RNN: cost', () => {
  it('counts the matrix products and the cell steps of every time step and direction', () => {
    const c = recurrentCase({ op: 'LSTM', direction: 'bidirectional', full: true }, 5)
    const inputs = Object.entries(c.inputs)
    const graph = graphOf({
      initializers: Object.fromEntries(inputs.flatMap(([n, t]) => (t === null ? [] : [[n, t]]))),
      parameters: ['w', 'r', 'b'],
      nodes: [
        node(
          'LSTM',
          inputs.map(([n, t]) => (t === null ? '' : n)),
          ['y', '', 'yc'],
          c.attrs,
        ),
      ],
      outputs: ['y'],
    })
    const steps = SEQ * 2 * BATCH
    const { nodes } = opCosts(graph)
    assert.equal(nodes[0].flops, 2 * steps * 4 * HIDDEN * (INPUT + HIDDEN) + steps * HIDDEN * 14)
    assert.equal(nodes[0].paramBytes, 4 * 2 * (4 * HIDDEN * (INPUT + HIDDEN) + 8 * HIDDEN))
    assert.equal(nodes[0].outputBytes, 4 * (SEQ + 1) * 2 * BATCH * HIDDEN)
  })
})
