/**
 * On a GPU, onnxruntime spends ~15 µs of host time launching each node, about what most of a GPT
 * step's kernels take on the device: the backward of the commonest ops is held to few nodes here.
 * (Their values are checked elsewhere: finite differences, PyTorch's gradients, onnxruntime runs.)
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildBackward } from '../src/autodiff/backward.ts'
import { attr, type Graph, type Node } from '../src/graph/types.ts'
import { runReference } from '../src/reference/index.ts'
import { float32 } from '../src/tensor.ts'
import { lossGraph, randomTensor, rng } from './gradcheck.ts'
import { node } from './ops-helpers.ts'
import { runOrt } from './ort-run.ts'

const next = rng(7)
const p = (shape: number[]) => randomTensor('float32', shape, next, -1, 1)

/** x = a + b, then LayerNormalization over the last axis: a transformer block's residual and norm. */
function residualNorm(): Graph {
  return lossGraph({
    params: { a: p([2, 3, 8]), b: p([2, 3, 8]), gamma: p([8]), beta: p([8]) },
    nodes: [
      node('Add', ['a', 'b'], ['x'], {}, 'residual'),
      node('LayerNormalization', ['x', 'gamma', 'beta'], ['y'], { epsilon: attr.float(1e-5) }, 'norm'),
    ],
    output: 'y',
  })
}

const ofNode = (nodes: Node[], forward: string) => nodes.filter((n) => n.name.startsWith(`bw/${forward}/`))
const count = (nodes: Node[], opType: string) => nodes.filter((n) => n.opType === opType).length

test('LayerNorm backward: x̂ and 1/σ from one LayerNormalization on a view of x, not from reductions', () => {
  const bw = buildBackward(residualNorm(), 'loss')
  const nodes = ofNode(bw.graph.nodes, 'norm')
  const norm = nodes.filter((n) => n.opType === 'LayerNormalization')
  assert.equal(norm.length, 1)
  assert.notEqual(norm[0].inputs[0], 'x', 'a view of x (see the next test)')
  for (const op of ['Sqrt', 'Reciprocal', 'Div']) assert.equal(count(nodes, op), 0, op)
  assert.ok(nodes.length <= 17, `${nodes.length} nodes`)
})

test('a LayerNorm backward that re-runs the Add before it runs in onnxruntime (its SkipLayerNormFusion drops InvStdDev)', async () => {
  // what a pipeline stage that recomputes its forward runs: the Add, then the backward alone
  const graph = residualNorm()
  const bw = buildBackward(graph, 'loss')
  const [seed] = bw.seeds.values()
  const initializers = new Map([...graph.initializers, ...bw.graph.initializers, [seed, float32([], [1])]])
  const recompute: Graph = {
    ...bw.graph,
    nodes: [graph.nodes[0], ...bw.graph.nodes],
    // a and b as inputs (their initializers the defaults), so that onnxruntime cannot fold the Add away
    inputs: ['a', 'b'].map((name) => ({ name, dtype: 'float32', shape: [2, 3, 8] })),
    initializers,
  }
  const actual = await runOrt(recompute)
  const expected = runReference(recompute, {})
  for (const out of recompute.outputs) {
    const e = expected[out.name].data as Float32Array
    const worst = Math.max(...e.map((v, i) => Math.abs(v - actual[out.name][i])))
    assert.ok(worst < 1e-4, `${out.name}: off by ${worst}`)
  }
})

test('a bias gradient summed over batch and positions is one ReduceSum', () => {
  const graph = lossGraph({
    params: { x: p([2, 3, 5]), bias: p([5]) },
    nodes: [node('Add', ['x', 'bias'], ['y'], {}, 'biased')],
    output: 'y',
  })
  const nodes = ofNode(buildBackward(graph, 'loss').graph.nodes, 'biased')
  assert.deepEqual(
    nodes.map((n) => n.opType),
    ['ReduceSum'],
  )
})

test("a Linear layer's dx is one MatMul by Wᵀ (onnxruntime fuses the two) and its dW one Gemm", () => {
  const graph = lossGraph({
    params: { x: p([2, 3, 4]), w: p([4, 5]) },
    nodes: [node('MatMul', ['x', 'w'], ['y'], {}, 'linear')],
    output: 'y',
  })
  const nodes = ofNode(buildBackward(graph, 'loss').graph.nodes, 'linear')
  const ops = nodes.map((n) => n.opType).sort()
  assert.deepEqual(ops, ['Gemm', 'MatMul', 'Reshape', 'Reshape', 'Transpose'])
  const matmul = nodes.find((n) => n.opType === 'MatMul') as Node
  const views = new Set(nodes.filter((n) => n.opType === 'Reshape').flatMap((n) => n.outputs))
  assert.ok(
    !views.has(matmul.inputs[0]),
    'dx multiplies the incoming gradient as it is, not a 2-D view of it',
  )
})
