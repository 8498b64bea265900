/**
 * BatchNorm running statistics in core: which initializers training updates (`stateUpdates`), the
 * training graph's extra outputs holding their new values (PyTorch's formula, unbiased variance),
 * and the inference-mode graph that normalises with them; run in onnxruntime-node.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as ort from 'onnxruntime-node'
import {
  buildTrainingGraph,
  exportOnnx,
  float32,
  type Graph,
  importOnnx,
  inferenceGraph,
  int64,
  isTrainingBatchNorm,
  mnistCnn,
  partitionGraph,
  runReference,
  stateUpdates,
  type Tensor,
} from '../src/index.ts'
import { loadFixtures } from './fixtures.ts'

async function runOrt(graph: Graph, feeds: Record<string, Tensor>): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(exportOnnx(graph))
  try {
    const ortFeeds = Object.fromEntries(
      Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor(t.dtype, t.data as Float32Array, t.shape)]),
    )
    const out = await session.run(ortFeeds)
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]))
  } finally {
    await session.release()
  }
}

const batch = {
  x: float32(
    [3, 1, 28, 28],
    Array.from({ length: 3 * 784 }, (_, i) => Math.cos(i * 0.11)),
  ),
  targets: int64([3], [1, 7, 4]),
}

test('the training graph outputs the running statistics updated as PyTorch does', async () => {
  const { graph } = mnistCnn({ seed: 2 })
  const state = stateUpdates(graph)
  assert.deepEqual(
    state.map((u) => u.state),
    ['bn1.running_mean', 'bn1.running_var', 'bn2.running_mean', 'bn2.running_var'],
  )
  const train = buildTrainingGraph(graph, 'loss', { bindings: { batch: 3 } })
  assert.deepEqual(train.state, state)
  const out = await runOrt(train.graph, batch)
  // the first BatchNorm's input (conv1's output) from the reference interpreter, statistics by hand
  const conv = graph.nodes.find((n) => n.opType === 'BatchNormalization')!.inputs[0]
  const x = runReference({ ...graph, outputs: [{ name: conv, dtype: 'float32' }] }, batch)[conv]
  const [n, c, h, w] = x.shape
  const d = x.data as Float32Array
  for (let ch = 0; ch < c; ch++) {
    const values: number[] = []
    for (let b = 0; b < n; b++) for (let i = 0; i < h * w; i++) values.push(d[(b * c + ch) * h * w + i])
    const mean = values.reduce((s, v) => s + v, 0) / values.length
    const unbiased = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1)
    // running mean starts at 0 and running variance at 1; PyTorch's momentum 0.1 weighs the batch
    const wantMean = 0.9 * 0 + 0.1 * mean
    const wantVar = 0.9 * 1 + 0.1 * unbiased
    const [m, v] = [out[state[0].update][ch], out[state[1].update][ch]]
    assert.ok(Math.abs(m - wantMean) < 1e-6 + 1e-5 * Math.abs(wantMean), `mean[${ch}] ${m} vs ${wantMean}`)
    assert.ok(Math.abs(v - wantVar) < 1e-5 * wantVar, `var[${ch}] ${v} vs ${wantVar}`)
  }
})

test('the inference graph normalises with the running statistics', async () => {
  const { graph } = mnistCnn({ seed: 2 })
  const inference = inferenceGraph(graph)
  assert.ok(!inference.nodes.some((n) => isTrainingBatchNorm(n, inference.opset)))
  assert.equal(stateUpdates(inference).length, 0)
  assert.ok(
    graph.nodes.some((n) => isTrainingBatchNorm(n, graph.opset)),
    'the source graph is untouched',
  )
  // running statistics that make the BatchNorm an affine map: y = (x − 0.5)/√(4 + ε)
  for (const u of stateUpdates(graph)) {
    const t = graph.initializers.get(u.state)!
    ;(t.data as Float32Array).fill(u.state.endsWith('mean') ? 0.5 : 4)
  }
  const fromOrt = await runOrt(inference, batch)
  const reference = runReference(inference, batch)
  assert.ok(Math.abs(fromOrt.loss[0] - (reference.loss.data as Float32Array)[0]) < 1e-5)
  const batchStats = runReference(graph, batch)
  assert.ok(Math.abs(fromOrt.loss[0] - (batchStats.loss.data as Float32Array)[0]) > 1e-3)
})

test('a TorchScript export trained in training mode has its running statistics as state', () => {
  const fixtures = loadFixtures().filter((f) => f.model === 'cnn' && f.exporter === 'ts')
  assert.ok(fixtures.length > 0)
  for (const f of fixtures) {
    const g = importOnnx(f.onnx)
    const state = stateUpdates(g)
    assert.ok(state.length >= 2, `${f.tag}: ${state.length} state updates`)
    for (const u of state) {
      assert.ok(/running_(mean|var)$/.test(u.state), `${f.tag}: ${u.state}`)
      assert.ok(!g.parameters.has(u.state))
    }
    assert.equal(stateUpdates(inferenceGraph(g)).length, 0)
  }
})

test('pipeline stages output the running statistics their BatchNorms update', async () => {
  const { graph } = mnistCnn({ seed: 2 })
  const bindings = { batch: 3 }
  const train = buildTrainingGraph(graph, 'loss', { bindings })
  const whole = await runOrt(train.graph, batch)
  const { stages } = partitionGraph(graph, {
    loss: 'loss',
    stages: [{ scopes: ['conv1', 'bn1'] }, { scopes: ['conv2', 'bn2', 'fc', ''] }],
    bindings,
  })
  assert.deepEqual(
    stages.map((s) => s.state.map((u) => u.state)),
    [
      ['bn1.running_mean', 'bn1.running_var'],
      ['bn2.running_mean', 'bn2.running_var'],
    ],
  )
  const values: Record<string, Tensor> = { ...batch }
  for (const s of stages) {
    const feeds = Object.fromEntries(s.forward.inputs.map((i) => [i.name, values[i.name]]))
    const out = await runOrt(s.forward, feeds)
    for (const o of s.forward.outputs) values[o.name] = float32([...(o.shape as number[])], out[o.name])
    for (const u of s.state) assert.deepEqual(out[u.update], whole[u.update], u.update)
  }
})
