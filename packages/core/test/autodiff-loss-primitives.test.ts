/**
 * SoftmaxCrossEntropyLoss as training decomposes it (decompose-loss.ts: ReduceMax, Ceil, Exp,
 * ReduceSum, Log, GatherElements, labels as int32) against the node itself: the same loss and
 * log_prob, and the same gradient as the node's own rule, for every reduction, ignore_index, class
 * weights, [N, C, d…] scores and int32 labels, run with the reference interpreter in float64.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildBackward } from '../src/autodiff/backward.ts'
import { decomposeTrainingOps } from '../src/autodiff/decompose.ts'
import { attr, type Graph } from '../src/graph/types.ts'
import { runReference } from '../src/reference/index.ts'
import { float32, int64, type Tensor, tensor } from '../src/tensor.ts'
import { positive } from './grad-case-kit.ts'
import { CASES } from './grad-cases.ts'
import { lossGraph, randomTensor, rng } from './gradcheck.ts'
import { node } from './ops-helpers.ts'

const draw = (seed: number) => {
  const next = rng(seed)
  return (shape: number[], lo?: number, hi?: number) => randomTensor('float64', shape, next, lo, hi)
}

/** loss = Σ SoftmaxCrossEntropyLoss(scores, labels[, weights]) ⊙ R, with the given attributes. */
function lossCase(
  scoresShape: number[],
  labels: Tensor,
  attrs: Record<string, ReturnType<typeof attr.int | typeof attr.string>>,
  weights = false,
  opset = 18,
): Graph {
  const p = draw(scoresShape.length * 31 + labels.data.length)
  const constants: Record<string, Tensor> = { labels }
  if (weights) constants.weights = positive([scoresShape[1]], 0.5, 1.5)(p)
  return lossGraph({
    params: { scores: p(scoresShape, 0.1, 3) },
    constants,
    nodes: [node('SoftmaxCrossEntropyLoss', ['scores', ...Object.keys(constants)], ['y'], attrs)],
    output: 'y',
    opset,
  })
}

const int32 = (shape: number[], values: number[]) => tensor('int32', shape, Int32Array.from(values))

const GRAPHS: Record<string, () => Graph> = {
  ...Object.fromEntries(
    Object.entries(CASES)
      .filter(([name]) => name.startsWith('SoftmaxCrossEntropyLoss'))
      .map(([name, make]) => [`grad case '${name}'`, () => lossGraph(make(draw(name.length), 'float64'))]),
  ),
  'mean, no ignore_index': () => lossCase([4, 5], int64([4], [4, 0, 2, 2]), {}),
  'sum, ignore_index outside the classes': () =>
    lossCase([4, 3], int64([4], [2, -1, 0, -1]), {
      reduction: attr.string('sum'),
      ignore_index: attr.int(-1),
    }),
  'none, weights, [N,C,d1,d2]': () =>
    lossCase(
      [2, 3, 2, 2],
      int64([2, 2, 2], [0, 1, 2, 0, 1, 1, 2, 2]),
      { reduction: attr.string('none') },
      true,
    ),
  'mean, ignore_index a class, int32 labels': () =>
    lossCase([5, 4], int32([5], [1, 3, 3, 0, 2]), { ignore_index: attr.int(3) }),
  'mean, weights and ignore_index, int32 labels': () =>
    lossCase([3, 4, 2], int32([3, 2], [1, -100, 3, 0, -100, 2]), { ignore_index: attr.int(-100) }, true),
  // below opset 16 the label is picked by a one-hot product (GatherElements has no gradient there)
  'opset 13, mean, weights and ignore_index, [N,C,d]': () =>
    lossCase([3, 4, 2], int64([3, 2], [1, -100, 3, 0, -100, 2]), { ignore_index: attr.int(-100) }, true, 13),
  'opset 15, none, int32 labels': () =>
    lossCase([4, 3], int32([4], [2, 0, 1, 1]), { reduction: attr.string('none') }, false, 15),
}

/** The loss (and every other output), then the gradient of `scores`, both by the reference interpreter. */
function lossAndGradient(graph: Graph): { outputs: Record<string, Tensor>; gradient: Tensor } {
  const backward = buildBackward(graph, 'loss', { bindings: {} })
  const fetch = [...new Set(['loss', ...graph.nodes.flatMap((n) => n.outputs), ...backward.saved])]
  const forward = runReference(graph, {}, { fetch: fetch.filter((v) => v !== '') })
  const feeds: Record<string, Tensor> = {}
  for (const name of backward.saved) feeds[name] = forward[name]
  feeds[backward.seeds.get('loss') as string] = tensor('float64', [], Float64Array.of(1))
  const analytic = runReference(backward.graph, feeds)
  return { outputs: forward, gradient: analytic[backward.gradients.get('scores') as string] }
}

function assertClose(actual: Tensor, expected: Tensor, tolerance: number, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`)
  const a = Array.from(actual.data as Float64Array)
  const e = Array.from(expected.data as Float64Array)
  const worst = Math.max(0, ...a.map((v, i) => Math.abs(v - e[i]) / Math.max(1, Math.abs(e[i]))))
  assert.ok(worst < tolerance, `${what}: relative error ${worst} ≥ ${tolerance}`)
}

for (const [name, make] of Object.entries(GRAPHS)) {
  test(`decomposed SoftmaxCrossEntropyLoss (${name}): same loss, log_prob and gradient as the node`, () => {
    const graph = make()
    const decomposed = decomposeTrainingOps(graph)
    assert.deepEqual(
      decomposed.nodes.filter((n) => n.opType === 'SoftmaxCrossEntropyLoss'),
      [],
      'the loss node is decomposed',
    )
    const whole = lossAndGradient(graph)
    const parts = lossAndGradient(decomposed)
    for (const out of graph.nodes.find((n) => n.opType === 'SoftmaxCrossEntropyLoss')?.outputs ?? [])
      assertClose(parts.outputs[out], whole.outputs[out], 1e-12, out)
    assertClose(parts.outputs.loss, whole.outputs.loss, 1e-12, 'loss')
    assertClose(parts.gradient, whole.gradient, 1e-10, 'd loss / d scores')
  })
}

test('the decomposed loss stays finite for float32 logits far beyond exp’s range, as the node does', () => {
  const graph = lossGraph({
    params: { scores: float32([2, 3], [1000, 999, -1000, 3e4, 3e4 - 2.5, 0]) },
    constants: { labels: int64([2], [1, 0]) },
    nodes: [node('SoftmaxCrossEntropyLoss', ['scores', 'labels'], ['y'], { reduction: attr.string('none') })],
    output: 'y',
  })
  const expected = [1 + Math.log(1 + Math.exp(-1)), Math.log(1 + Math.exp(-2.5))]
  const out = runReference(decomposeTrainingOps(graph), {}, { fetch: ['y'] }).y
  Array.from(out.data as Float32Array).forEach((v, i) => {
    assert.ok(Math.abs(v - expected[i]) < 1e-5, `position ${i}: ${v}, expected ${expected[i]}`)
  })
})

test('the decomposition keeps the loss node’s name on its first node, which reads the logits', () => {
  const graph = lossCase([2, 3], int64([2], [0, 2]), {})
  const name = graph.nodes[0].name
  const first = decomposeTrainingOps(graph).nodes.find((n) => n.name === name)
  assert.equal(first?.opType, 'ReduceMax')
  assert.deepEqual(first?.inputs[0], 'scores')
})
