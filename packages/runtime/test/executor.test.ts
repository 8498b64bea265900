import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { float32, gpt2, int64, mlp, partitionGraph, type Tensor } from '@atoll/core'
import {
  type Backend,
  MonolithicTrainer,
  nodeBackends,
  type Parameter,
  parametersOf,
  pipelineModel,
  pipelineOrder,
  referenceBackend,
  stageGraphsOf,
  stageOrder,
  zeroGrads,
} from '../src/index.ts'
import { fixedBatchLosses } from './fixed-batch.ts'

const cpu: Backend = await nodeBackends().resolve('cpu')
const releases: (() => Promise<void>)[] = []
after(() => Promise.all(releases.map((r) => r())))

const model = gpt2({ config: 'tiny', seed: 1 }) // vocab 256, ctx 32, d 64, 2 layers
const B = 4
const T = 32
const ids = (k: number) =>
  int64(
    [B, T],
    Array.from({ length: B * T }, (_, i) => (i * 37 + k * 11) % 256),
  )
const batch: Record<string, Tensor> = { input_ids: ids(0), targets: ids(1) }

/** Loss and gradients of one run, as plain arrays by parameter name. */
async function gradientsOf(
  run: (params: Parameter[]) => Promise<number>,
  params: Parameter[],
): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
  zeroGrads(params)
  const loss = await run(params)
  return { loss, grads: new Map(params.map((p) => [p.name, Float32Array.from(p.grad)])) }
}

function assertGradsClose(a: Map<string, Float32Array>, b: Map<string, Float32Array>, tol = 2e-5): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort())
  let scale = 0
  for (const g of b.values()) for (const v of g) scale = Math.max(scale, Math.abs(v))
  for (const [name, ga] of a) {
    const gb = b.get(name)!
    for (let i = 0; i < ga.length; i++) {
      assert.ok(
        Math.abs(ga[i] - gb[i]) <= tol * scale,
        `${name}[${i}]: ${ga[i]} vs ${gb[i]} (scale ${scale})`,
      )
    }
  }
}

const monolithicParams = parametersOf(model.graph)
const monolithic = new MonolithicTrainer({
  backend: cpu,
  graph: model.graph,
  params: new Map(monolithicParams.map((p) => [p.name, p])),
})
releases.push(() => monolithic.release())
const baseline = await gradientsOf(() => monolithic.run(batch), monolithicParams)

test('the monolithic onnxruntime training graph agrees with the reference interpreter', async () => {
  const params = parametersOf(model.graph)
  const ref = new MonolithicTrainer({
    backend: referenceBackend,
    graph: model.graph,
    params: new Map(params.map((p) => [p.name, p])),
  })
  const r = await gradientsOf(() => ref.run(batch), params)
  assert.ok(Math.abs(r.loss - baseline.loss) < 1e-5)
  assert.ok(Math.abs(baseline.loss - Math.log(256)) < 0.05) // an untrained model is near uniform
  assertGradsClose(baseline.grads, r.grads)
})

// a spread of splits, micro-batch counts, schedules and activation policies (each case compiles sessions: keep few)
const cases = [
  { stages: 1, M: 2, schedule: '1f1b', policy: 'stash', fuse: false },
  { stages: 1, M: 2, schedule: 'gpipe', policy: 'stash', fuse: true },
  { stages: 3, M: 4, schedule: 'gpipe', policy: 'stash', fuse: true },
  { stages: 3, M: 2, schedule: '1f1b', policy: 'selective', fuse: true },
  { stages: 2, M: 1, schedule: 'gpipe', policy: 'selective', fuse: false },
  { stages: 3, M: 1, schedule: '1f1b', policy: 'recompute', fuse: false },
  { stages: 4, M: 2, schedule: '1f1b', policy: 'recompute', fuse: true },
] as const
for (const { stages, M, schedule, policy, fuse } of cases) {
  const what = `${stages} stage(s), ${M} micro-batch(es), ${schedule}, ${policy}${fuse ? ', fused loss stage' : ''}`
  test(`${what}: loss and gradients equal the monolithic graph's`, async () => {
    const { params, pipeline } = pipelineModel(model.graph, {
      backend: cpu,
      stages,
      policy,
      fuseLossStage: fuse,
    })
    releases.push(() => pipeline.release())
    const r = await gradientsOf(
      async () => (await pipeline.step(batch, { microBatches: M, schedule })).loss,
      params,
    )
    assert.ok(Math.abs(r.loss - baseline.loss) < 1e-5, `${r.loss} vs ${baseline.loss}`)
    assertGradsClose(r.grads, baseline.grads)
    assert.equal(pipeline.stages.length, stages)
  })
}

test("gradients in shared memory are added on onnxruntime's thread: the same bits as those that come back", async () => {
  // a backend whose sessions count the runs that add on their thread (the real sessions underneath)
  let adding = 0
  const counting: Backend = {
    ...cpu,
    async createSession(model) {
      const session = await cpu.createSession(model)
      const runAdding = session.runAdding
      if (runAdding === undefined) return session
      return {
        ...session,
        runAdding: (feeds, fetches, into) => {
          adding++
          return runAdding(feeds, fetches, into)
        },
      }
    },
  }
  for (const fuse of [false, true]) {
    const grads = []
    for (const sharedParameters of [false, true]) {
      const { params, pipeline } = pipelineModel(model.graph, {
        backend: counting,
        stages: 2,
        fuseLossStage: fuse,
        sharedParameters,
      })
      releases.push(() => pipeline.release())
      const before = adding
      // two micro-batches: the second's gradients are added onto the first's
      grads.push(
        await gradientsOf(async () => (await pipeline.step(batch, { microBatches: 2 })).loss, params),
      )
      assert.equal(
        adding > before,
        sharedParameters,
        `shared ${sharedParameters}: ${adding - before} runs added`,
      )
    }
    const [returned, added] = grads
    assert.equal(added.loss, returned.loss)
    const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)
    for (const [name, g] of returned.grads)
      assert.ok(
        bytes(g).equals(bytes(added.grads.get(name) as Float32Array)),
        `${fuse ? 'fused' : 'two-session'}: ${name}`,
      )
  }
})

test("core's scope partition (tied embedding read by the first and last stage) runs with the same gradients", async () => {
  const partition = partitionGraph(model.graph, {
    loss: 'loss',
    bindings: { batch: B / 2 },
    stages: [{ scopes: ['wte', 'wpe', 'h.0'] }, { scopes: ['h.1', 'ln_f', 'lm_head'] }],
  })
  assert.deepEqual(partition.parameterStages.get('wte.weight'), [0, 1])
  const { params, pipeline } = pipelineModel(model.graph, { backend: cpu, stages: stageGraphsOf(partition) })
  releases.push(() => pipeline.release())
  const r = await gradientsOf(async () => (await pipeline.step(batch, { microBatches: 2 })).loss, params)
  assert.ok(Math.abs(r.loss - baseline.loss) < 1e-5)
  assertGradsClose(r.grads, baseline.grads)
})

test('a stage that only moves data along (it reshapes the targets for the loss) has no backward session, and the step runs', async () => {
  const partition = partitionGraph(model.graph, {
    loss: 'loss',
    bindings: { batch: B / 2 },
    stages: [
      { scopes: ['wte', 'wpe', 'h', 'ln_f', 'lm_head'], nodes: ['loss/Reshape'] },
      { nodes: ['loss/Reshape_1'] },
      { nodes: ['loss/SoftmaxCrossEntropyLoss'] },
    ],
  })
  assert.deepEqual(partition.stages[1].parameters, [], 'the middle stage has no weights')
  const { params, pipeline } = pipelineModel(model.graph, { backend: cpu, stages: stageGraphsOf(partition) })
  releases.push(() => pipeline.release())
  const r = await gradientsOf(async () => (await pipeline.step(batch, { microBatches: 2 })).loss, params)
  assert.ok(Math.abs(r.loss - baseline.loss) < 1e-5)
  assertGradsClose(r.grads, baseline.grads)
})

test('sessions are compiled once per input-shape signature and reused', async () => {
  const { params, pipeline } = pipelineModel(model.graph, { backend: cpu, stages: 2 })
  releases.push(() => pipeline.release())
  await pipeline.step(batch)
  await pipeline.step(batch, { microBatches: 2 }) // batch 2 per micro-batch: a second signature
  await pipeline.step(batch)
  await pipeline.step(batch, { microBatches: 2 })
  assert.deepEqual(
    pipeline.stages.map((s) => s.signatures),
    [2, 2],
  )
  assert.ok(params.length > 0)
})

test('parameters are fed as views: an optimizer update is seen by the next step', async () => {
  const pipelined = pipelineModel(model.graph, { backend: cpu })
  releases.push(() => pipelined.pipeline.release())
  const { losses, trainer } = await fixedBatchLosses(pipelined, batch, 8)
  assert.equal(losses[0], (await gradientsOf(() => monolithic.run(batch), monolithicParams)).loss) // step 0: before any update
  assert.ok(
    losses[7] < losses[0] - 0.3,
    `loss should fall on a fixed batch: ${losses.map((l) => l.toFixed(3))}`,
  )
  assert.equal(trainer.step, 8)
})

test('the reference backend runs the stage executor too (float64 inside ops)', async () => {
  const small = mlp({ sizes: [6, 5, 3], seed: 2 })
  const x = float32(
    [4, 6],
    Array.from({ length: 24 }, (_, i) => Math.sin(i)),
  )
  const y = int64([4], [0, 2, 1, 2])
  const onRef = pipelineModel(small.graph, { backend: referenceBackend, stages: 2 })
  const onCpu = pipelineModel(small.graph, { backend: cpu, stages: 2, policy: 'recompute' })
  releases.push(() => onCpu.pipeline.release())
  const a = await gradientsOf(async () => (await onRef.pipeline.step({ x, targets: y })).loss, onRef.params)
  const b = await gradientsOf(async () => (await onCpu.pipeline.step({ x, targets: y })).loss, onCpu.params)
  assert.ok(Math.abs(a.loss - b.loss) < 1e-6)
  assertGradsClose(a.grads, b.grads, 1e-5)
})

test('1F1B keeps at most S − s micro-batches in flight on stage s; both schedules respect dependencies', () => {
  for (const kind of ['gpipe', '1f1b'] as const) {
    const S = 4
    const M = 6
    const order = pipelineOrder(kind, S, M)
    assert.equal(order.length, 2 * S * M)
    const seen = new Set<string>()
    for (const op of order) {
      if (op.kind === 'F' && op.stage > 0) assert.ok(seen.has(`F${op.stage - 1}.${op.mb}`))
      if (op.kind === 'B') {
        assert.ok(seen.has(`F${op.stage}.${op.mb}`))
        if (op.stage < S - 1) assert.ok(seen.has(`B${op.stage + 1}.${op.mb}`))
      }
      seen.add(`${op.kind}${op.stage}.${op.mb}`)
    }
    for (let s = 0; s < S; s++) {
      let inFlight = 0
      let peak = 0
      for (const op of stageOrder(kind, S, M, s)) {
        inFlight += op.kind === 'F' ? 1 : -1
        peak = Math.max(peak, inFlight)
      }
      assert.equal(peak, kind === 'gpipe' ? M : Math.min(S - s, M))
    }
  }
})

test('1F1B with a deeper warm-up before a slow link: each stage holds what it is given, and nothing deadlocks', () => {
  const S = 4
  const M = 16
  const inFlight = [8, 7, 2, 1]
  const order = pipelineOrder('1f1b', S, M, inFlight)
  assert.equal(order.length, 2 * S * M)
  for (let s = 0; s < S; s++) {
    let held = 0
    let peak = 0
    for (const op of stageOrder('1f1b', S, M, s, inFlight[s])) {
      held += op.kind === 'F' ? 1 : -1
      peak = Math.max(peak, held)
    }
    assert.equal(peak, inFlight[s])
  }
  // a warm-up that grows along the stages leaves a stage waiting on one that waits on it
  assert.throws(() => pipelineOrder('1f1b', S, M, [1, 2, 3, 4]), /deadlocked/)
})
