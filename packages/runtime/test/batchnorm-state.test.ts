/**
 * BatchNorm running statistics: training updates them on every forward (micro-batch) with PyTorch's
 * formula, evaluation normalises with them, checkpoints carry them. The expected values are computed
 * here by hand from the BatchNorm inputs the reference interpreter gives for the same weights.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  float32,
  type Graph,
  inferenceGraph,
  int64,
  partitionGraph,
  runReference,
  type Tensor,
} from '@atoll/core'
import {
  type Backend,
  evaluate,
  fit,
  loadCheckpoint,
  microBatchView,
  modelState,
  nodeBackends,
  openDataSource,
  parametersOf,
  pipelineModel,
  restoreCheckpoint,
  stageGraphsOf,
  zooModel,
} from '../src/index.ts'
import { tempDir } from './temp-dir.ts'

const cpu: Backend = await nodeBackends().resolve('cpu')

/** PyTorch's BatchNorm2d default: running = (1 − 0.1)·running + 0.1·batch statistic. */
const MOMENTUM = 0.1

function batchOf(step: number, size = 4): Record<string, Tensor> {
  const pixels = size * 28 * 28
  return {
    x: float32(
      [size, 1, 28, 28],
      Array.from({ length: pixels }, (_, i) => Math.sin(i * 0.37 + step * 1.3) + 0.5),
    ),
    targets: int64(
      [size],
      Array.from({ length: size }, (_, i) => (i * 3 + step) % 10),
    ),
  }
}

/** The graph with `weights` as its initializers and the BatchNorm inputs as extra outputs. */
function probe(graph: Graph, weights: Map<string, Float32Array>): { graph: Graph; bnInputs: string[] } {
  const bns = graph.nodes.filter((n) => n.opType === 'BatchNormalization')
  const initializers = new Map(graph.initializers)
  for (const [name, data] of weights)
    initializers.set(name, float32([...initializers.get(name)!.shape], data))
  const bnInputs = bns.map((n) => n.inputs[0])
  const outputs = [...graph.outputs, ...bnInputs.map((name) => ({ name, dtype: 'float32' as const }))]
  return { graph: { ...graph, initializers, outputs }, bnInputs }
}

/** Per-channel mean and unbiased variance of an NCHW tensor, in float64. */
function channelStats(t: Tensor): { mean: number[]; variance: number[] } {
  const [n, c, h, w] = t.shape
  const d = t.data as Float32Array
  const count = n * h * w
  const mean: number[] = []
  const variance: number[] = []
  for (let ch = 0; ch < c; ch++) {
    let s = 0
    for (let b = 0; b < n; b++) for (let i = 0; i < h * w; i++) s += d[(b * c + ch) * h * w + i]
    const m = s / count
    let q = 0
    for (let b = 0; b < n; b++) for (let i = 0; i < h * w; i++) q += (d[(b * c + ch) * h * w + i] - m) ** 2
    mean.push(m)
    variance.push(q / (count - 1))
  }
  return { mean, variance }
}

for (const config of [
  { stages: 1, microBatches: 1, policy: 'stash' as const },
  { stages: 2, microBatches: 2, policy: 'recompute' as const },
]) {
  test(`running statistics after 3 steps follow PyTorch's per-forward update (${JSON.stringify(config)})`, async () => {
    const model = zooModel('mnist-cnn', 3)
    const bns = model.graph.nodes.filter((n) => n.opType === 'BatchNormalization')
    const expected = new Map<string, number[]>()
    for (const n of bns) {
      expected.set(n.inputs[3], Array.from(model.graph.initializers.get(n.inputs[3])!.data as Float32Array))
      expected.set(n.inputs[4], Array.from(model.graph.initializers.get(n.inputs[4])!.data as Float32Array))
    }
    const result = await fit({
      model,
      backend: cpu,
      batch: (step) => batchOf(step, 8),
      optimizer: { kind: 'sgd', momentum: 0.9 },
      schedule: { kind: 'constant', lr: 0.05 },
      steps: 3,
      ...config,
    })
    assert.equal(result.state.size, 4)
    for (let step = 0; step < 3; step++) {
      // the weights step `step`'s forwards saw: those after `step` steps (training is deterministic)
      const weights = await weightsAfter(step)
      for (let mb = 0; mb < config.microBatches; mb++) {
        const full = batchOf(step, 8)
        const feeds = Object.fromEntries(
          Object.entries(full).map(([k, t]) => [k, microBatchView(t, mb, config.microBatches)]),
        ) as Record<string, Tensor>
        const p = probe(model.graph, weights)
        const out = runReference(p.graph, feeds)
        bns.forEach((n, k) => {
          const { mean, variance } = channelStats(out[p.bnInputs[k]])
          const rm = expected.get(n.inputs[3])!
          const rv = expected.get(n.inputs[4])!
          for (let c = 0; c < mean.length; c++) {
            rm[c] = (1 - MOMENTUM) * rm[c] + MOMENTUM * mean[c]
            rv[c] = (1 - MOMENTUM) * rv[c] + MOMENTUM * variance[c]
          }
        })
      }
    }
    for (const [name, want] of expected) {
      const got = result.state.get(name)!.data as Float32Array
      for (let c = 0; c < want.length; c++)
        assert.ok(
          // tight enough to tell the unbiased variance from the biased one (n/(n − 1) − 1 ≥ 1/3136)
          Math.abs(got[c] - want[c]) <= 2e-6 * Math.max(1, Math.abs(want[c])),
          `${name}[${c}]: ${got[c]} vs ${want[c]}`,
        )
    }

    /** The weights after `steps` steps, by training a fresh copy of the model. */
    async function weightsAfter(steps: number): Promise<Map<string, Float32Array>> {
      const again = await fit({
        model: zooModel('mnist-cnn', 3),
        backend: cpu,
        batch: (step) => batchOf(step, 8),
        optimizer: { kind: 'sgd', momentum: 0.9 },
        schedule: { kind: 'constant', lr: 0.05 },
        steps,
        ...config,
      })
      return new Map(again.params.map((q) => [q.name, q.value]))
    }
  })
}

test('evaluation normalises with the running statistics, and checkpoints carry them', async () => {
  const dir = await tempDir('bn')
  const model = zooModel('mnist-cnn', 5)
  const result = await fit({
    model,
    backend: cpu,
    batch: (step) => batchOf(step),
    optimizer: { kind: 'sgd' },
    schedule: { kind: 'constant', lr: 0.05 },
    steps: 2,
    checkpoint: { dir, every: 2 },
  })
  const batch = batchOf(9)
  const weights = new Map(result.params.map((p) => [p.name, p.value]))
  const inference = runReference(probe(inferenceGraph(model.graph), weights).graph, batch)
  const training = runReference(probe(model.graph, weights).graph, batch)
  const r = await evaluate(model, result.params, cpu, [batch])
  const want = (inference.loss.data as Float32Array)[0]
  assert.ok(Math.abs(r.loss - want) < 1e-4 * Math.abs(want), `eval loss ${r.loss} vs inference ${want}`)
  const batchStats = (training.loss.data as Float32Array)[0]
  assert.ok(Math.abs(r.loss - batchStats) > 1e-3, 'evaluation must not use the batch statistics')

  const loaded = await loadCheckpoint(dir)
  assert.ok(loaded)
  const fresh = zooModel('mnist-cnn', 6)
  const state = modelState(fresh.graph)
  restoreCheckpoint(loaded, parametersOf(fresh.graph), undefined, state)
  for (const [name, t] of result.state) assert.deepEqual(state.get(name)!.data, t.data, name)
  const stateless = { ...loaded, state: new Map() }
  assert.throws(() => restoreCheckpoint(stateless, parametersOf(fresh.graph), undefined, state), {
    name: 'CheckpointError',
  })
})

test('the MNIST CNN trained with BatchNorm evaluates with running statistics at a sane accuracy', async () => {
  const model = zooModel('mnist-cnn', 1)
  const train = await openDataSource('mnist', model, { batchSize: 32, seed: 1, split: 'train' })
  const held = await openDataSource('mnist', model, { batchSize: 250, split: 'eval' })
  const result = await fit({
    model,
    backend: cpu,
    batch: (k) => train.shuffled(k),
    optimizer: { kind: 'sgd', momentum: 0.9 },
    schedule: { kind: 'constant', lr: 0.05 },
    steps: 120,
  })
  const r = await evaluate(
    model,
    result.params,
    cpu,
    [0, 1, 2, 3].map((k) => held.ordered(k)),
  )
  assert.equal(r.positions, 1000)
  assert.ok(r.accuracy > 0.9, `accuracy ${r.accuracy} on 1000 held-out digits after 120 steps`)
})

test('stages cut by core partition (BatchNorm decomposed) update the running statistics too', async () => {
  const batch = batchOf(4, 8)
  const runs = []
  for (const split of ['whole', 'partition'] as const) {
    const { graph } = zooModel('mnist-cnn', 8)
    const stages =
      split === 'whole'
        ? 1
        : stageGraphsOf(
            partitionGraph(graph, {
              loss: 'loss',
              stages: [{ scopes: ['conv1', 'bn1'] }, { scopes: ['conv2', 'bn2', 'fc', ''] }],
              bindings: { batch: 4 },
            }),
          )
    const { pipeline } = pipelineModel(graph, { backend: cpu, stages })
    await pipeline.step(batch, { microBatches: 2 })
    await pipeline.release()
    runs.push(modelState(graph))
  }
  const [whole, partitioned] = runs
  assert.equal(whole.size, 4)
  for (const [name, t] of whole) {
    const a = t.data as Float32Array
    const b = partitioned.get(name)!.data as Float32Array
    assert.ok(
      a.some((v) => v !== 0 && v !== 1),
      `${name} was updated`,
    )
    for (let c = 0; c < a.length; c++)
      assert.ok(Math.abs(a[c] - b[c]) < 1e-6, `${name}[${c}]: ${a[c]} vs ${b[c]}`)
  }
})
