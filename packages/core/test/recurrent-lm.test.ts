/**
 * A recurrent language model written the way PyTorch's exporter writes nn.Embedding → nn.LSTM →
 * nn.GRU(bidirectional) → nn.Linear with batch_first inputs: symbolic batch and sequence, zero initial
 * states built from Shape at run time, the layers joined by Squeeze, Transpose and Reshape. Its
 * training graph, with the sequence length fixed by the bindings, runs in onnxruntime-node and
 * gives the gradients that finite differences of the reference kernels give.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as ort from 'onnxruntime-node'
import { buildTrainingGraph } from '../src/autodiff/training.ts'
import { attr, type Graph } from '../src/graph/types.ts'
import { exportOnnx } from '../src/onnx/index.ts'
import { runReference } from '../src/reference/index.ts'
import { float32, int64, type Tensor } from '../src/tensor.ts'
import { randomTensor, rng, toFloat64 } from './gradcheck.ts'
import { graphOf, node } from './ops-helpers.ts'

const VOCAB = 7
const EMBED = 3
const HIDDEN = 4
const BINDINGS = { batch: 2, seq: 3 }

function languageModel(): Graph {
  const next = rng(16)
  const p = (shape: number[]) => randomTensor('float32', shape, next, 0.1, 0.8)
  const zeroState = (x: string, dirs: number, tag: string) => [
    node('Shape', [x], [`${tag}.shape`]),
    node('Gather', [`${tag}.shape`, 'one'], [`${tag}.batch`]),
    node('Concat', [`dirs${dirs}`, `${tag}.batch`, 'hidden'], [`${tag}.dims`], { axis: attr.int(0) }),
    node('ConstantOfShape', [`${tag}.dims`], [`${tag}.h0`], { value: attr.tensor(float32([1], [0])) }),
  ]
  return graphOf({
    inputs: { ids: ['int64', ['batch', 'seq']], labels: ['int64', ['batch', 'seq']] },
    initializers: {
      emb: p([VOCAB, EMBED]),
      'lstm.w': p([1, 4 * HIDDEN, EMBED]),
      'lstm.r': p([1, 4 * HIDDEN, HIDDEN]),
      'lstm.b': p([1, 8 * HIDDEN]),
      'gru.w': p([2, 3 * HIDDEN, HIDDEN]),
      'gru.r': p([2, 3 * HIDDEN, HIDDEN]),
      'gru.b': p([2, 6 * HIDDEN]),
      'head.w': p([2 * HIDDEN, VOCAB]),
      'head.b': p([VOCAB]),
      one: int64([1], [1]),
      dirs1: int64([1], [1]),
      dirs2: int64([1], [2]),
      hidden: int64([1], [HIDDEN]),
      squeezeAxis: int64([1], [1]),
      flat: int64([3], [0, 0, -1]),
    },
    parameters: ['emb', 'lstm.w', 'lstm.r', 'lstm.b', 'gru.w', 'gru.r', 'gru.b', 'head.w', 'head.b'],
    nodes: [
      node('Gather', ['emb', 'ids'], ['embedded']),
      node('Transpose', ['embedded'], ['x0'], { perm: attr.ints([1, 0, 2]) }),
      ...zeroState('x0', 1, 'l0'),
      node('LSTM', ['x0', 'lstm.w', 'lstm.r', 'lstm.b', '', 'l0.h0', 'l0.h0'], ['y0', 'h_n0', 'c_n0'], {
        hidden_size: attr.int(HIDDEN),
      }),
      node('Squeeze', ['y0', 'squeezeAxis'], ['x1']),
      ...zeroState('x1', 2, 'l1'),
      node('GRU', ['x1', 'gru.w', 'gru.r', 'gru.b', '', 'l1.h0'], ['y1', 'h_n1'], {
        hidden_size: attr.int(HIDDEN),
        direction: attr.string('bidirectional'),
        linear_before_reset: attr.int(1),
      }),
      node('Transpose', ['y1'], ['y1t'], { perm: attr.ints([2, 0, 1, 3]) }),
      node('Reshape', ['y1t', 'flat'], ['features']),
      node('MatMul', ['features', 'head.w'], ['projected']),
      node('Add', ['projected', 'head.b'], ['logits']),
      node('Transpose', ['logits'], ['scores'], { perm: attr.ints([0, 2, 1]) }),
      node('SoftmaxCrossEntropyLoss', ['scores', 'labels'], ['loss']),
    ],
    outputs: ['loss'],
  })
}

const FEEDS = {
  ids: int64([2, 3], [1, 6, 2, 0, 3, 3]),
  labels: int64([2, 3], [6, 2, 5, 3, 3, 1]),
}

async function runOrt(graph: Graph, feeds: Record<string, Tensor>): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(exportOnnx(graph))
  try {
    const ortFeeds = Object.fromEntries(
      Object.entries(feeds).map(([n, t]) => [
        n,
        new ort.Tensor('int64', t.data as BigInt64Array, [...t.shape]),
      ]),
    )
    const out = await session.run(ortFeeds)
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]))
  } finally {
    await session.release()
  }
}

/** d loss / d parameter[index] by central differences on the float64 graph (the recurrent kernels). */
function numericGradient(wide: Graph, parameter: string, index: number): number {
  const base = wide.initializers.get(parameter) as Tensor
  const eps = 1e-6
  const at = (delta: number) => {
    const data = (base.data as Float64Array).slice()
    data[index] += delta
    return Number(runReference(wide, { ...FEEDS, [parameter]: { ...base, data } }).loss.data[0])
  }
  return (at(eps) - at(-eps)) / (2 * eps)
}

test('the sequence length must be bound before the recurrent layers can be unrolled', () => {
  assert.throws(() => buildTrainingGraph(languageModel(), 'loss'), {
    name: 'DynamicShapeError',
    message: /value 'x0'/,
  })
})

test('an LSTM + GRU language model trains in onnxruntime with the gradients finite differences give', async () => {
  const graph = languageModel()
  const training = buildTrainingGraph(graph, 'loss', { bindings: BINDINGS }).graph
  assert.ok(!training.nodes.some((n) => n.opType === 'LSTM' || n.opType === 'GRU'))
  const actual = await runOrt(training, FEEDS)
  const wide = toFloat64(graph)
  const loss = Number(runReference(wide, FEEDS).loss.data[0])
  assert.ok(Math.abs(actual.loss[0] - loss) < 1e-5 * Math.abs(loss), `loss ${actual.loss[0]} vs ${loss}`)
  for (const parameter of graph.parameters) {
    const g = actual[`grad.${parameter}`]
    const n = g.length
    const picked = Array.from({ length: 6 }, (_, s) => Math.floor((s * n) / 6))
    let diff = 0
    let norm = 0
    for (const i of picked) {
      const numeric = numericGradient(wide, parameter, i)
      diff += (g[i] - numeric) ** 2
      norm += numeric ** 2
    }
    const error = Math.sqrt(diff / Math.max(norm, 1e-30))
    assert.ok(error < 1e-3, `grad.${parameter}: relative error ${error}`)
  }
})
