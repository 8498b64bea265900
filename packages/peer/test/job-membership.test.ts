/**
 * A replicated job's pipelines leave and join while it runs (one process, real loopback connections,
 * real onnxruntime): a worker dies mid-step, its pipeline leaves, and the job goes on at the step that
 * failed over the pipelines left, with no checkpoint; fresh peers fill the empty pipeline from a live
 * replica's state, for every algorithm. Nothing is lost or applied twice: the steps go on without a
 * gap or a repeat, and after the run every pipeline holds the same parameters to the bit, the
 * joiner's included, where the algorithm keeps the replicas equal (S-SGD after every step, with the
 * optimizer state too; Local SGD and DiLoCo after an averaging). And with S-SGD a replica left out
 * of a round and told nothing of it makes the coordinator run the step again, not commit it.
 */
import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { type Partition, partitionGraph, type Tensor } from '@atoll/core'
import { type Backend, checkpointParts, nodeBackends, zooModel } from '@atoll/runtime'
import { JobCoordinator, StepFailedError } from '../src/index.ts'
import { coordinatorInit, type PipelineSetting } from './pipeline-reference.ts'
import { startWorkerMeshes, type WorkerMeshes } from './worker-meshes.ts'

let backend: Backend

before(async () => {
  backend = await nodeBackends().resolve('cpu')
})

function setting(id: string, stages: PipelineSetting['stages']): PipelineSetting {
  return {
    id,
    model: zooModel('gpt2:tiny', 4, 16),
    stages,
    dataset: 'moby-dick',
    batchSize: 12,
    microBatches: 2,
    optimizer: { kind: 'adamw', betas: [0.9, 0.95], weightDecay: 0.1 },
    schedule: { kind: 'constant', lr: 1e-3 },
    clipNorm: 1,
    steps: 6,
  }
}

function partitionFor(s: PipelineSetting, replicas: number): Partition {
  return partitionGraph(s.model.graph, {
    loss: s.model.loss,
    bindings: { batch: s.batchSize / (replicas * s.microBatches) },
    stages: s.stages,
  })
}

/** Every pair of the workers at 1 Gbit/s. */
function links(meshes: WorkerMeshes) {
  const ids = meshes.workers.map(({ mesh }) => mesh.peerId)
  return ids.flatMap((a, i) => ids.slice(i + 1).map((b) => ({ a, b, bandwidthBps: 1e9, rttSeconds: 1e-3 })))
}

/** Worker k dies: its stages are dropped and its node stops, so calls to it fail. */
async function kill(meshes: WorkerMeshes, k: number): Promise<void> {
  const { mesh, worker } = meshes.workers[k]
  await worker.stop()
  await mesh.stop(0)
}

/** Runs a step that must fail; the peers it lost. */
async function failingStep(job: JobCoordinator): Promise<readonly string[]> {
  const err = await job.runStep().then(
    () => undefined,
    (e: Error) => e,
  )
  assert.ok(err instanceof StepFailedError, `the step failed: ${err}`)
  return err.lost
}

/**
 * Each live pipeline's parameters and optimizer buffers of `stage`, one after another: the job's
 * checkpoints come from the first live pipeline, so each is taken out in turn (the test's own use
 * of `leave`, as after a lost peer) once read.
 */
async function everyPipeline(job: JobCoordinator, replicas: number) {
  const states: { params: Map<string, Tensor>; optimizer: Map<string, Tensor> }[] = []
  for (let r = 0; r < replicas; r++) {
    const state = { params: new Map<string, Tensor>(), optimizer: new Map<string, Tensor>() }
    for (const bytes of await job.checkpoints()) {
      const parts = checkpointParts(bytes)
      for (const [name, t] of parts.params) state.params.set(name, t)
      for (const [name, t] of parts.optimizerTensors) state.optimizer.set(name, t)
    }
    states.push(state)
    const first = job.peers[0].peerId
    if (r < replicas - 1) assert.ok(await job.leave([first]), 'a pipeline is left')
  }
  return states
}

function assertSameBits(states: Map<string, Tensor>[]): void {
  const [first, ...rest] = states
  assert.ok(first.size > 0)
  for (const [k, other] of rest.entries()) {
    assert.deepEqual([...other.keys()].sort(), [...first.keys()].sort())
    for (const [name, t] of first) {
      const a = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)
      const o = other.get(name) as Tensor
      const b = new Uint8Array(o.data.buffer, o.data.byteOffset, o.data.byteLength)
      assert.ok(Buffer.compare(a, b) === 0, `pipeline ${k + 1} differs in '${name}'`)
    }
  }
}

/** Period 2: step 5, the run's last, ends a period (Local SGD and DiLoCo average every parameter there). */
const ALGORITHMS = [
  { algorithm: 'ssgd' },
  { algorithm: 'localsgd', period: 2 },
  { algorithm: 'diloco', period: 2 },
  { algorithm: 'dreamddp', period: 2 },
]

for (const spec of ALGORITHMS) {
  test(`${spec.algorithm}: a pipeline whose peer dies leaves, the job goes on at that step, and a fresh peer fills it from a live replica`, {
    timeout: 120_000,
  }, async () => {
    const meshes = await startWorkerMeshes(4, backend)
    const s = setting(`members-${spec.algorithm}`, [
      { scopes: ['wte', 'wpe', 'h.0', 'h.1', 'ln_f', 'lm_head', 'loss'] },
    ])
    const peers = meshes.peers()
    const job = new JobCoordinator(meshes.coordinator, {
      ...coordinatorInit(s, partitionFor(s, 3), peers.slice(0, 3)),
      replicas: 3,
      sync: { spec, links: links(meshes) },
    })
    try {
      await job.assign()
      const losses = [(await job.runStep()).loss, (await job.runStep()).loss]
      await kill(meshes, 2)
      assert.deepEqual(await failingStep(job), [peers[2].peerId])
      assert.equal(job.step, 2, 'the failed step is not committed')
      assert.ok(await job.leave([peers[2].peerId]))
      assert.deepEqual(job.emptyPipelines, [2])
      for (const step of [2, 3]) {
        const r = await job.runStep()
        assert.equal(r.step, step, 'the job goes on at the step that failed')
        losses.push(r.loss)
      }
      assert.ok(job.fits(1) && !job.fits(2))
      // a joiner that cannot be reached is lost at its assignment, and its pipeline is empty again
      const unreachable = await job.admit([peers[2]], links(meshes)).then(
        () => undefined,
        (err: Error) => err,
      )
      assert.ok(unreachable instanceof StepFailedError, `${unreachable}`)
      assert.deepEqual(unreachable.lost, [peers[2].peerId])
      assert.ok(await job.leave(unreachable.lost))
      assert.deepEqual(job.emptyPipelines, [2])
      const admitted = await job.admit([peers[3]], links(meshes))
      assert.deepEqual(
        admitted.map((p) => p.peerId),
        [peers[3].peerId],
      )
      assert.deepEqual(job.emptyPipelines, [])
      for (const step of [4, 5]) assert.equal((await job.runStep()).step, step)
      assert.ok(losses.every(Number.isFinite), `${losses}`)
      assert.deepEqual(
        job.peers.map((p) => p.peerId),
        [peers[0], peers[1], peers[3]].map((p) => p.peerId),
      )
      // pipelines 0, 1 and the joiner's 2 (DreamDDP averages some layers at a time: they differ)
      const pipelines = await everyPipeline(job, 3)
      if (spec.algorithm !== 'dreamddp') assertSameBits(pipelines.map((p) => p.params))
      if (spec.algorithm === 'ssgd') assertSameBits(pipelines.map((p) => p.optimizer))
    } finally {
      await job.stop()
      await meshes.stop()
    }
  })
}

test('S-SGD: a replica that was left out of a round and told nothing makes the step run again, and the replicas stay equal', {
  timeout: 120_000,
}, async () => {
  const meshes = await startWorkerMeshes(3, backend)
  const s = setting('members-agree', [{ scopes: ['wte', 'wpe', 'h.0', 'h.1', 'ln_f', 'lm_head', 'loss'] }])
  const job = new JobCoordinator(meshes.coordinator, {
    ...coordinatorInit(s, partitionFor(s, 3), meshes.peers()),
    replicas: 3,
    sync: { spec: { algorithm: 'ssgd' }, links: links(meshes) },
  })
  try {
    await job.assign()
    await job.runStep()
    // step 1's gradient round (round 1) reaches worker 2 neither from the others nor as an outcome
    // afterwards: the others go on without it, and it steps on its own gradient unless the coordinator
    // sees the difference; the step's second try (round 2) is let through
    let refusals = 0
    meshes.workers[2].refuse = (header) => {
      const sync = header.edge.startsWith('sync:') || header.edge.startsWith('replica:')
      if (!sync || header.step !== 1) return undefined
      refusals++
      return 'held back by the test'
    }
    const r = await job.runStep()
    assert.equal(r.step, 1)
    assert.ok(refusals > 0, 'the round was held back')
    meshes.workers[2].refuse = undefined
    await job.runStep()
    const pipelines = await everyPipeline(job, 3)
    assertSameBits(pipelines.map((p) => p.params))
    assertSameBits(pipelines.map((p) => p.optimizer))
  } finally {
    await job.stop()
    await meshes.stop()
  }
})

test('a worker that stops says so in its last step: its pipeline leaves once that step is done, and nothing is redone', {
  timeout: 120_000,
}, async () => {
  const meshes = await startWorkerMeshes(3, backend)
  const s = setting('members-stop', [{ scopes: ['wte', 'wpe', 'h.0', 'h.1', 'ln_f', 'lm_head', 'loss'] }])
  const peers = meshes.peers()
  const job = new JobCoordinator(meshes.coordinator, {
    ...coordinatorInit(s, partitionFor(s, 3), peers),
    replicas: 3,
    sync: { spec: { algorithm: 'ssgd' }, links: links(meshes) },
  })
  try {
    await job.assign()
    assert.deepEqual((await job.runStep()).leaving, [])
    // as the daemon does on SIGTERM: the step in hand still ends, then the coordinator lets it go
    const stopping = meshes.workers[1].worker.leave(60_000)
    const last = await job.runStep()
    assert.equal(last.step, 1)
    assert.deepEqual(last.leaving, [peers[1].peerId])
    assert.ok(await job.leave(last.leaving))
    await stopping
    assert.deepEqual(meshes.workers[1].worker.jobs, [], 'the job was stopped on it')
    assert.deepEqual(job.emptyPipelines, [1])
    assert.equal((await job.runStep()).step, 2, 'no step redone')
    const pipelines = await everyPipeline(job, 2)
    assertSameBits(pipelines.map((p) => p.params))
  } finally {
    await job.stop()
    await meshes.stop()
  }
})

test('Local SGD over two stages: a lost stage-1 peer takes its pipeline out; the released peer and a fresh one fill it again', {
  timeout: 120_000,
}, async () => {
  const s = setting('members-localsgd', [
    { scopes: ['wte', 'wpe', 'h.0'] },
    { scopes: ['h.1', 'ln_f', 'lm_head', 'loss'] },
  ])
  // stage-major: stage 0 on workers 0 and 1, stage 1 on 2 and 3; 4 is spare
  const meshes = await startWorkerMeshes(5, backend)
  const all = meshes.peers()
  const job = new JobCoordinator(meshes.coordinator, {
    ...coordinatorInit(s, partitionFor(s, 2), [all[0], all[1], all[2], all[3]]),
    replicas: 2,
    sync: { spec: { algorithm: 'localsgd', period: 2 }, links: links(meshes) },
  })
  try {
    await job.assign()
    await job.runStep()
    await job.runStep()
    await kill(meshes, 3)
    assert.deepEqual(await failingStep(job), [all[3].peerId])
    assert.ok(await job.leave([all[3].peerId]))
    assert.deepEqual(job.emptyPipelines, [1])
    assert.deepEqual(
      job.peers.map((p) => p.peerId),
      [all[0], all[2]].map((p) => p.peerId),
      'worker 1, released with its pipeline, runs nothing',
    )
    assert.equal((await job.runStep()).step, 2)
    assert.equal((await job.runStep()).step, 3)
    // a pipeline takes a peer per stage: worker 1 (released, alive) and the spare
    assert.ok(!job.fits(1) && job.fits(2))
    await assert.rejects(job.admit([all[0], all[1]], links(meshes)), /runs the job already/)
    const admitted = await job.admit([all[1], all[4]], links(meshes))
    assert.equal(admitted.length, 2)
    // step 5 ends a period: Local SGD averages every parameter there
    assert.equal((await job.runStep()).step, 4)
    assert.equal((await job.runStep()).step, 5)
    const pipelines = await everyPipeline(job, 2)
    assertSameBits(pipelines.map((p) => p.params))
  } finally {
    await job.stop()
    await meshes.stop()
  }
})
