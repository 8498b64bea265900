/**
 * buildBackward as a graph transformation: what the backward graph takes and gives, accumulation of
 * values used several times, non-differentiable paths, the combined training graph, the
 * BatchNorm decomposition, and the typed errors.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildBackward } from '../src/autodiff/backward.ts'
import { decomposeTrainingOps } from '../src/autodiff/decompose.ts'
import type { GradRule } from '../src/autodiff/rule.ts'
import { RULES_BY_OP } from '../src/autodiff/rules/index.ts'
import { buildTrainingGraph } from '../src/autodiff/training.ts'
import { attr, type Graph } from '../src/graph/types.ts'
import { partitionGraph } from '../src/partition/index.ts'
import { runReference } from '../src/reference/index.ts'
import { int64 } from '../src/tensor.ts'
import { assertGradient, lossGraph, randomTensor, rng } from './gradcheck.ts'
import { node } from './ops-helpers.ts'

const next = rng(7)
const p = (shape: number[]) => randomTensor('float64', shape, next)

test('a tied embedding used by Gather and by the output MatMul accumulates both gradients', () => {
  const graph = lossGraph({
    params: { table: p([5, 3]) },
    constants: { ids: int64([4], [0, 3, 3, 1]) },
    nodes: [
      node('Gather', ['table', 'ids'], ['emb']),
      node('Transpose', ['table'], ['tableT'], { perm: attr.ints([1, 0]) }),
      node('MatMul', ['emb', 'tableT'], ['logits']),
    ],
    output: 'logits',
  })
  const bw = buildBackward(graph, 'loss')
  // summed with Add, never a variadic Sum (which onnxruntime's WebGPU provider runs on the CPU)
  assert.ok(
    bw.graph.nodes.some(
      (n) => n.opType === 'Add' && n.inputs.every((i) => i.startsWith('grad') || i.startsWith('bw')),
    ),
    'two contributions are added',
  )
  assert.ok(!bw.graph.nodes.some((n) => n.opType === 'Sum'))
  assertGradient(graph, 1e-6)
})

test('non-differentiable branches pass no gradient; integer inputs get none', () => {
  const graph = lossGraph({
    params: { x: p([2, 3]) },
    nodes: [
      node('Shape', ['x'], ['shape']),
      node('ArgMax', ['x'], ['arg'], { axis: attr.int(1) }),
      node('Cast', ['arg'], ['argf'], { to: attr.int(11) }),
      node('Equal', ['x', 'x'], ['same']),
      node('Where', ['same', 'x', 'x'], ['w']),
      node('Expand', ['argf', 'shape'], ['wide']),
      node('Mul', ['w', 'wide'], ['y']),
    ],
    output: 'y',
  })
  const bw = buildBackward(graph, 'loss')
  const ops = new Set(bw.graph.nodes.map((n) => n.opType))
  for (const op of ['Shape', 'ArgMax', 'Equal']) assert.ok(!ops.has(op), `${op} is not differentiated`)
  assertGradient(graph, 1e-6)
})

test('the backward graph reads only what the rules declare, and takes the seed as an input', () => {
  const graph = lossGraph({
    params: { x: p([3]) },
    nodes: [node('Exp', ['x'], ['e']), node('Relu', ['e'], ['y'])],
    output: 'y',
  })
  const bw = buildBackward(graph, 'loss')
  // Exp and Relu save their outputs; Mul saves both inputs, but the projection is a constant
  // initializer, copied into the backward graph rather than fed; ReduceSum saves nothing
  assert.deepEqual(new Set(bw.saved), new Set(['y', 'e']))
  assert.ok(bw.graph.initializers.has('projection'))
  assert.deepEqual(
    bw.graph.inputs.map((v) => v.name),
    [...bw.saved, 'grad.loss'],
  )
  assert.deepEqual(
    bw.graph.outputs.map((v) => [v.name, v.shape]),
    [['grad.x', [3]]],
  )
  assert.ok(
    bw.graph.nodes.every((n) => (n.domain ?? '') === ''),
    'only standard ai.onnx ops',
  )
})

test('gradients of chosen graph inputs (a stage boundary) are outputs too', () => {
  const graph: Graph = {
    ...lossGraph({
      params: { w: p([3, 2]) },
      inputs: { act: p([4, 3]) },
      nodes: [node('MatMul', ['act', 'w'], ['y'])],
      output: 'y',
    }),
  }
  const bw = buildBackward(graph, 'loss', { inputs: ['act'] })
  assert.deepEqual([...bw.gradients.keys()], ['w', 'act'])
  assertGradient(graph, 1e-6, { feeds: { act: p([4, 3]) }, inputs: ['act'] })
})

test('the training graph computes the loss and every gradient from the forward inputs alone', () => {
  const graph = lossGraph({
    params: { a: p([2, 2]), b: p([2]) },
    nodes: [node('Add', ['a', 'b'], ['s']), node('Tanh', ['s'], ['y'])],
    output: 'y',
  })
  const { graph: training, backward } = buildTrainingGraph(graph, 'loss')
  assert.deepEqual(
    training.outputs.map((o) => o.name),
    ['loss', 'grad.a', 'grad.b'],
  )
  const out = runReference(training, {})
  const forward = runReference(graph, {}, { fetch: backward.saved })
  const feeds = Object.fromEntries(backward.saved.map((s) => [s, forward[s]]))
  const separate = runReference(backward.graph, {
    ...feeds,
    'grad.loss': { dtype: 'float64', shape: [], data: Float64Array.of(1) },
  })
  assert.deepEqual(out['grad.a'].data, separate['grad.a'].data)
  assert.deepEqual(out.loss.data, forward.loss.data)
})

test('decomposed training BatchNorm computes what the op computes; the running variance is unbiased', () => {
  const graph: Graph = {
    name: 'bn',
    nodes: [
      node('BatchNormalization', ['x', 's', 'b', 'm', 'v'], ['y', 'rm', 'rv'], {
        training_mode: attr.int(1),
        momentum: attr.float(0.8),
      }),
    ],
    inputs: [],
    outputs: ['y', 'rm', 'rv'].map((name) => ({ name, dtype: 'float64' as const })),
    initializers: new Map([
      ['x', p([3, 2, 2, 1])],
      ['s', p([2])],
      ['b', p([2])],
      ['m', p([2])],
      ['v', { ...p([2]), data: Float64Array.of(0.5, 2) }],
    ]),
    parameters: new Set(['s', 'b']),
    valueInfo: new Map(),
    opset: 18,
  }
  const decomposed = decomposeTrainingOps(graph)
  assert.ok(!decomposed.nodes.some((n) => n.opType === 'BatchNormalization'))
  const a = runReference(graph, {})
  const b = runReference(decomposed, {})
  // the op (ONNX spec) updates the running variance with the biased batch variance, the
  // decomposition with PyTorch's unbiased one: n/(n − 1) of it, n = 3·2·1 values per channel
  const old = graph.initializers.get('v')!.data as Float64Array
  const unbiased = (rv: number, ch: number) => 0.8 * old[ch] + ((rv - 0.8 * old[ch]) * 6) / 5
  for (const name of ['y', 'rm', 'rv']) {
    const x = a[name].data as Float64Array
    const y = b[name].data as Float64Array
    for (let i = 0; i < x.length; i++) {
      const want = name === 'rv' ? unbiased(x[i], i) : x[i]
      assert.ok(Math.abs(want - y[i]) < 1e-12, `${name}[${i}]: ${want} vs ${y[i]}`)
    }
  }
})

test('typed errors: unknown loss, symbolic shapes left unbound, ops without a rule, a rule short of an opset', () => {
  const graph = lossGraph({ params: { x: p([2]) }, nodes: [node('Exp', ['x'], ['y'])], output: 'y' })
  assert.throws(() => buildBackward(graph, 'nope'), { name: 'GradientTargetError' })
  const symbolic: Graph = {
    ...graph,
    nodes: [
      node('MatMul', ['act', 'x'], ['y2']),
      node('ReduceSum', ['y2'], ['l2'], { keepdims: attr.int(0) }),
    ],
    inputs: [{ name: 'act', dtype: 'float64', shape: ['batch', 2] }],
  }
  assert.throws(() => buildBackward(symbolic, 'l2'), { name: 'DynamicShapeError' })
  assert.doesNotThrow(() => buildBackward(symbolic, 'l2', { bindings: { batch: 3 } }))
  // every op of the contract has a rule: one is taken away to see what an op added without one meets
  const rules = RULES_BY_OP as Map<string, GradRule>
  const exp = rules.get('Exp') as GradRule
  rules.delete('Exp')
  try {
    assert.throws(() => buildBackward(graph, 'loss'), { name: 'NoGradientRuleError' })
  } finally {
    rules.set('Exp', exp)
  }
  assert.throws(() => buildBackward({ ...graph, opset: 12 }, 'loss'), { name: 'GradientTargetError' })
  // GatherND's gradient adds with ScatterND's reduction, which opset 13 lacks
  const gathered = lossGraph({
    params: { x: p([3, 2]) },
    constants: { idx: int64([2, 1], [2, 0]) },
    nodes: [node('GatherND', ['x', 'idx'], ['y'])],
    output: 'y',
    opset: 13,
  })
  assert.throws(() => buildBackward(gathered, 'loss'), { name: 'UnsupportedGradientError' })
  assert.doesNotThrow(() => buildBackward({ ...gathered, opset: 16 }, 'loss'))
})

test('constants folded from forward nodes are defined once in the training graph and recomputing stages', () => {
  const graph = lossGraph({
    params: { x: p([3, 3]) },
    constants: { shape: int64([2], [3, 3]), k: int64([], [0]) },
    nodes: [
      node('ConstantOfShape', ['shape'], ['ones'], { value: attr.tensor(int64([1], [1])) }),
      node('Trilu', ['ones', 'k'], ['lower'], { upper: attr.int(0) }),
      node('Cast', ['lower'], ['mask'], { to: attr.int(9) }),
      node('Where', ['mask', 'x', 'x'], ['masked']),
      node('Exp', ['masked'], ['y']),
    ],
    output: 'y',
  })
  const bw = buildBackward(graph, 'loss')
  const forwardNames = new Set(graph.nodes.flatMap((n) => n.outputs))
  const copies = [...bw.graph.initializers.keys()].filter((k) => k.includes('mask'))
  assert.equal(copies.length, 1, 'the folded mask travels with the backward graph')
  for (const name of bw.graph.initializers.keys())
    assert.ok(!forwardNames.has(name), `the backward redefines the forward value '${name}'`)
  const unique = (g: Graph) => {
    const outputs = new Set(g.nodes.flatMap((n) => n.outputs))
    for (const name of g.initializers.keys()) assert.ok(!outputs.has(name), `'${name}' is defined twice`)
  }
  unique(buildTrainingGraph(graph, 'loss').graph)
  const partition = partitionGraph(graph, {
    loss: 'loss',
    stages: [{ nodes: graph.nodes.map((n) => n.name) }],
    recompute: true,
  })
  unique(partition.stages[0].backward)
})

test('a training Dropout without a mask output gets one before differentiation', () => {
  const graph = lossGraph({
    params: { x: p([3, 4]) },
    constants: {
      ratio: { dtype: 'float64', shape: [], data: Float64Array.of(0.5) },
      on: { dtype: 'bool', shape: [], data: Uint8Array.of(1) },
    },
    nodes: [node('Dropout', ['x', 'ratio', 'on'], ['y'], { seed: attr.int(1) })],
    output: 'y',
  })
  assert.throws(() => buildBackward(graph, 'loss'), { name: 'UnsupportedGradientError' })
  const prepared = decomposeTrainingOps(graph)
  assert.equal(prepared.nodes[0].outputs.length, 2)
  assertGradient(prepared, 1e-6)
  assert.ok(buildTrainingGraph(graph, 'loss').graph.nodes.some((n) => n.opType === 'Dropout' && n.outputs[1]))
})
