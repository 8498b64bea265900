/**
 * Whole models from the zoo by finite differences on sampled parameters (float64 copies of the
 * builder's graphs), and their backward graphs run in onnxruntime-node CPU against the reference
 * interpreter — proof that what autodiff emits is valid standard ONNX.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as ort from 'onnxruntime-node'
import { buildBackward } from '../src/autodiff/backward.ts'
import { buildTrainingGraph } from '../src/autodiff/training.ts'
import type { Graph } from '../src/graph/types.ts'
import { validateGraph } from '../src/graph/index.ts'
import { exportOnnx } from '../src/onnx/index.ts'
import { runReference } from '../src/reference/index.ts'
import { int64, type Tensor } from '../src/tensor.ts'
import { gpt2, resnet } from '../src/zoo/index.ts'
import { assertGradient, randomTensor, rng, toFloat64 } from './gradcheck.ts'

const BATCH = 2
const tinyGpt = () =>
  gpt2({ config: { vocab: 11, ctx: 6, d: 8, layers: 2, heads: 2 }, seq: 4, batch: BATCH, seed: 3 })
// 64×64 leaves 2×2 maps in layer4: BatchNorm over N·H·W = 2 values (32×32) is ill-conditioned
// enough that float64 finite differences and float32 runtimes drift apart
const IMAGE = 64
const tinyResnet = () =>
  resnet({ depth: 18, width: 1 / 16, classes: 3, imageSize: IMAGE, batch: BATCH, seed: 5 })

function gptFeeds(): Record<string, Tensor> {
  const next = rng(9)
  const ids = () =>
    int64(
      [BATCH, 4],
      Array.from({ length: BATCH * 4 }, () => Math.floor(next() * 11)),
    )
  return { input_ids: ids(), targets: ids() }
}

function resnetFeeds(dtype: 'float32' | 'float64'): Record<string, Tensor> {
  return { x: randomTensor(dtype, [BATCH, 3, IMAGE, IMAGE], rng(4), 0, 1), targets: int64([BATCH], [2, 0]) }
}

test('gpt2-tiny: every parameter gradient matches finite differences (float64, sampled)', () => {
  const { graph } = tinyGpt()
  assertGradient(toFloat64(graph), 1e-6, { feeds: gptFeeds(), samples: 3 })
})

test('resnet-tiny (training BatchNorm): every parameter gradient matches finite differences (float64, sampled)', () => {
  const { graph } = tinyResnet()
  assertGradient(toFloat64(graph), 1e-6, { feeds: resnetFeeds('float64'), samples: 2, eps: 1e-6 })
})

async function runOrt(graph: Graph, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await ort.InferenceSession.create(exportOnnx(graph))
  try {
    const input: Record<string, ort.Tensor> = {}
    for (const name of session.inputNames) {
      const t = feeds[name]
      input[name] = new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, [...t.shape])
    }
    const out = await session.run(input)
    return Object.fromEntries(
      Object.entries(out).map(([k, v]) => [
        k,
        { dtype: 'float32', shape: [...v.dims], data: v.data } as Tensor,
      ]),
    )
  } finally {
    await session.release()
  }
}

function relativeError(a: Tensor, b: Tensor): number {
  let diff = 0
  let norm = 0
  const x = a.data as Float32Array
  const y = b.data as Float32Array
  for (let i = 0; i < x.length; i++) {
    diff += (x[i] - y[i]) ** 2
    norm += y[i] ** 2
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-30)
}

for (const [name, make, feeds] of [
  ['gpt2-tiny', tinyGpt, gptFeeds],
  ['resnet-tiny', tinyResnet, () => resnetFeeds('float32')],
] as const) {
  test(`${name}: the backward graph runs in onnxruntime-node and agrees with the reference interpreter`, async () => {
    const { graph, loss } = make()
    const f = feeds()
    const backward = buildBackward(graph, loss as string)
    validateGraph(backward.graph)
    const forward = runReference(graph, f, { fetch: backward.saved })
    const bfeeds: Record<string, Tensor> = {
      'grad.loss': { dtype: 'float32', shape: [], data: Float32Array.of(1) },
    }
    for (const s of backward.saved) bfeeds[s] = forward[s]
    const expected = runReference(backward.graph, bfeeds)
    const actual = await runOrt(backward.graph, bfeeds)
    for (const out of backward.graph.outputs) {
      assert.ok(
        relativeError(actual[out.name], expected[out.name]) < 1e-4,
        `${out.name} differs: ${relativeError(actual[out.name], expected[out.name])}`,
      )
    }
  })

  test(`${name}: the combined training graph runs in onnxruntime-node`, async () => {
    const { graph, loss } = make()
    const f = feeds()
    const { graph: training, state } = buildTrainingGraph(graph, loss as string)
    validateGraph(training)
    const expected = runReference(training, f)
    const actual = await runOrt(training, f)
    // the loss, every gradient, and the running statistics' new values
    assert.equal(Object.keys(actual).length, graph.parameters.size + 1 + state.length)
    for (const out of training.outputs) {
      assert.ok(
        relativeError(actual[out.name], expected[out.name]) < 1e-4,
        `${out.name} differs: ${relativeError(actual[out.name], expected[out.name])}`,
      )
    }
  })
}

test('resnet-tiny: with convTranspose the training graph in onnxruntime-node matches the Conv form', async () => {
  const { graph, loss } = tinyResnet()
  const f = resnetFeeds('float32')
  const viaConv = runReference(buildTrainingGraph(graph, loss as string, { convTranspose: false }).graph, f)
  const direct = buildTrainingGraph(graph, loss as string, { convTranspose: true }).graph
  assert.ok(direct.nodes.some((n) => n.opType === 'ConvTranspose'))
  const actual = await runOrt(direct, f)
  for (const [name, t] of Object.entries(viaConv)) {
    assert.ok(relativeError(actual[name], t) < 1e-4, `${name} differs: ${relativeError(actual[name], t)}`)
  }
})
