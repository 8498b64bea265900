/**
 * Weights kept in Constant nodes (paddle2onnx, old tf2onnx): which count as weights, their
 * promotion to initializers on import with `trainConstants`, and training through them.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { attr, type Graph, type Node } from '../src/graph/types.ts'
import {
  buildTrainingGraph,
  constantWeights,
  exportOnnx,
  importOnnx,
  importOnnxGraph,
  MIN_CONSTANT_WEIGHT_ELEMENTS,
  summarizeGraph,
} from '../src/index.ts'
import { runReference } from '../src/reference/index.ts'
import { float32, int64, type Tensor } from '../src/tensor.ts'
import { assertClose, node, values } from './ops-helpers.ts'
import { randn } from './reference-ort.ts'

const constant = (out: string, value: Tensor, name?: string): Node =>
  node('Constant', [], [out], { value: attr.tensor(value) }, name)

/**
 * An opset-9 classifier as paddle2onnx writes one: conv weights, BatchNorm parameters and
 * statistics, a hard-swish's scalars and a classifier, all Constant nodes; the classifier weight
 * behind an Identity, as tf2onnx writes a shared weight.
 */
function paddleStyle(): Graph {
  const nodes: Node[] = [
    constant('conv.w', randn([4, 2, 3, 3], 1, -0.5, 0.5)),
    constant('bn.scale', randn([4], 2, 0.5, 1.5)),
    constant('bn.bias', randn([4], 3)),
    constant('bn.mean', randn([4], 4)),
    constant('bn.var', randn([4], 5, 0.5, 2)),
    constant('three', float32([], [3])),
    constant('six', float32([1], [6])),
    constant('fc.w.raw', randn([4, 3], 6), 'fc_weight_const'),
    node('Identity', ['fc.w.raw'], ['fc.w']),
    constant('fc.b', randn([3], 7)),
    constant('shape', int64([2], [0, -1])),
    node('Conv', ['x', 'conv.w'], ['c'], { pads: attr.ints([1, 1, 1, 1]) }),
    node('BatchNormalization', ['c', 'bn.scale', 'bn.bias', 'bn.mean', 'bn.var'], ['n']),
    node('Add', ['n', 'three'], ['n3']),
    node('Clip', ['n3'], ['r6'], { min: attr.float(0), max: attr.float(6) }),
    node('Mul', ['n', 'r6'], ['m']),
    node('Div', ['m', 'six'], ['hs']),
    node('GlobalAveragePool', ['hs'], ['p']),
    node('Reshape', ['p', 'shape'], ['f']),
    node('MatMul', ['f', 'fc.w'], ['l']),
    node('Add', ['l', 'fc.b'], ['logits']),
  ]
  return {
    name: 'paddle-style',
    nodes,
    inputs: [{ name: 'x', dtype: 'float32', shape: [2, 2, 5, 5] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: [2, 3] }],
    initializers: new Map(),
    parameters: new Set(),
    valueInfo: new Map(),
    opset: 9,
  }
}

const file = exportOnnx(paddleStyle())
const WEIGHTS = ['bn.bias', 'bn.scale', 'conv.w', 'fc.b', 'fc.w']

test('constant weights: floats of at least two elements read as data; not statistics, scalars or shapes', () => {
  assert.equal(MIN_CONSTANT_WEIGHT_ELEMENTS, 2)
  const g = importOnnxGraph(file)
  const found = constantWeights(g)
  assert.deepEqual(found.map((w) => w.name).sort(), WEIGHTS)
  // largest first; an Identity-of-Constant is named after the Identity's output and names both nodes
  assert.equal(found[0].name, 'conv.w')
  assert.deepEqual(found[0].shape, [4, 2, 3, 3])
  assert.equal(found[0].elements, 72)
  const fc = found.find((w) => w.name === 'fc.w')
  assert.equal(fc?.nodes.length, 2)
  assert.equal(fc?.nodes[0], 'fc_weight_const')
  const summary = summarizeGraph(g)
  assert.equal(summary.parameters, 0)
  assert.deepEqual(summary.constantWeights.count, 5)
  assert.deepEqual(summary.constantWeights.elements, 72 + 4 + 4 + 12 + 3)
})

test('trainConstants: the weights become parameters named after their values, the rest stays', () => {
  const g = importOnnxGraph(file, { trainConstants: true })
  assert.deepEqual([...g.parameters].sort(), WEIGHTS)
  const left = g.nodes.filter((n) => n.opType === 'Constant').flatMap((n) => n.outputs)
  assert.deepEqual(left.sort(), ['bn.mean', 'bn.var', 'shape', 'six', 'three'])
  assert.ok(!g.nodes.some((n) => n.opType === 'Identity'))
  // without the option nothing changes
  assert.equal(importOnnxGraph(file).parameters.size, 0)
})

test('trainConstants: the same outputs and gradients as the model written with initializers', () => {
  const promoted = importOnnx(file, { trainConstants: true })
  const source = paddleStyle()
  // the same model as an exporter that writes initializers would write it
  for (const n of source.nodes.filter((n) => n.opType === 'Constant')) {
    const [out] = n.outputs
    const value = (n.attributes.value as { value: Tensor }).value
    if (WEIGHTS.includes(out) || out === 'fc.w.raw')
      source.initializers.set(out === 'fc.w.raw' ? 'fc.w' : out, value)
  }
  source.nodes = source.nodes.filter(
    (n) =>
      !(n.opType === 'Constant' && (WEIGHTS.includes(n.outputs[0]) || n.outputs[0] === 'fc.w.raw')) &&
      n.opType !== 'Identity',
  )
  const plain = importOnnx(exportOnnx(source))
  assert.deepEqual([...plain.parameters].sort(), WEIGHTS)
  const feeds = { x: randn([2, 2, 5, 5], 8), targets: int64([2], [2, 0]) }
  const a = runReference(buildTrainingGraph(promoted, 'loss').graph, feeds)
  const b = runReference(buildTrainingGraph(plain, 'loss').graph, feeds)
  assertClose(a.loss, values(b.loss), 1e-12)
  for (const w of WEIGHTS) {
    assertClose(a[`grad.${w}`], values(b[`grad.${w}`]), 1e-12)
    assert.ok(
      values(a[`grad.${w}`]).some((v) => v !== 0),
      `grad.${w} is not all zero`,
    )
  }
})
