import assert from 'node:assert/strict'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { float32, zeros } from '@atoll/core'
import {
  adamw,
  assignParameters,
  clipGradNorm,
  createParameter,
  createRandom,
  epochOrder,
  loadCheckpoint,
  lrAt,
  type Optimizer,
  type Parameter,
  restoreCheckpoint,
  saveCheckpoint,
  sgd,
  zeroGrads,
} from '../src/index.ts'
import { tempDir } from './temp-dir.ts'

// Linear regression y = x W + b on seeded synthetic data: small, but it has every piece a real run
// has (parameters, optimizer state, a schedule, clipping, a seeded data order keyed by the step).
const N = 64
const D = 5
const K = 3
const BATCH = 8
const SEED = 11
const random = createRandom(5)
const X = Float64Array.from({ length: N * D }, () => random.normal())
const Y = Float64Array.from(
  { length: N * K },
  (_, i) => X[Math.floor(i / K) * D + (i % K)] * 2 - 0.5 + 0.1 * random.normal(),
)
const schedule = { kind: 'cosine' as const, lr: 0.05, warmupSteps: 3, totalSteps: 20 }

function freshParams(): Parameter[] {
  return [createParameter('w', zeros('float32', [D, K])), createParameter('b', float32([K], [0.1, 0.2, 0.3]))]
}

function trainSteps(params: Parameter[], opt: Optimizer, from: number, to: number): void {
  const [w, b] = params
  for (let step = from; step < to; step++) {
    const epoch = Math.floor((step * BATCH) / N)
    const order = epochOrder(N, SEED, epoch)
    const offset = (step * BATCH) % N
    zeroGrads(params)
    for (let j = 0; j < BATCH; j++) {
      const n = order[offset + j]
      for (let k = 0; k < K; k++) {
        let pred = b.value[k]
        for (let d = 0; d < D; d++) pred += X[n * D + d] * w.value[d * K + k]
        const err = (2 * (pred - Y[n * K + k])) / (BATCH * K)
        b.grad[k] += err
        for (let d = 0; d < D; d++) w.grad[d * K + k] += err * X[n * D + d]
      }
    }
    clipGradNorm(params, 1)
    opt.step(lrAt(schedule, step))
  }
}

const optimizers = {
  sgd: (p: Parameter[]) => sgd(p, { momentum: 0.9, nesterov: true, weightDecay: 1e-3 }),
  adamw: (p: Parameter[]) => adamw(p, { weightDecay: 0.1, amsgrad: true }),
}

for (const [kind, make] of Object.entries(optimizers)) {
  test(`${kind}: a run resumed from a checkpoint matches the uninterrupted run bit for bit`, async () => {
    const straight = freshParams()
    trainSteps(straight, make(straight), 0, 20)

    const dir = await tempDir('ckpt')
    const first = freshParams()
    const firstOpt = make(first)
    trainSteps(first, firstOpt, 0, 9)
    const record = await saveCheckpoint(dir, 9, first, firstOpt, { extra: { seed: SEED } })
    assert.equal(record.step, 9)

    const resumed = freshParams() // a new process: fresh weights and optimizer, then the checkpoint
    const resumedOpt = make(resumed)
    const loaded = await loadCheckpoint(dir)
    assert.ok(loaded)
    assert.deepEqual(loaded.record.extra, { seed: SEED })
    restoreCheckpoint(loaded, resumed, resumedOpt)
    assert.equal(resumedOpt.steps, 9)
    trainSteps(resumed, resumedOpt, loaded.record.step, 20)

    for (let i = 0; i < straight.length; i++) assert.deepEqual(resumed[i].value, straight[i].value)
    assert.notDeepEqual(straight[0].value, first[0].value) // the last 11 steps did move the weights
  })
}

test('a crash before the step record leaves the previous checkpoint in force; old files are pruned', async () => {
  const dir = await tempDir('ckpt')
  const params = freshParams()
  const opt = optimizers.adamw(params)
  trainSteps(params, opt, 0, 2)
  await saveCheckpoint(dir, 2, params, opt)
  const saved = Float32Array.from(params[0].value)
  trainSteps(params, opt, 2, 4)
  await saveCheckpoint(dir, 4, params, opt)
  await saveCheckpoint(dir, 5, params, opt)
  assert.deepEqual((await readdir(dir)).sort(), [
    'latest.json',
    'step-00000004.safetensors',
    'step-00000005.safetensors',
  ])
  // a writer that died: a half-written temp file and a newer data file the record never named
  await writeFile(join(dir, 'latest.json.tmp-999'), '{"version":1,')
  await writeFile(join(dir, 'step-00000009.safetensors'), 'garbage')
  const loaded = await loadCheckpoint(dir)
  assert.equal(loaded?.record.step, 5)
  assert.notDeepEqual(loaded?.params.get('w')?.data, saved)
})

test('damaged files, missing optimizer state and mismatched models are CheckpointErrors', async () => {
  assert.equal(await loadCheckpoint(join(await tempDir('ckpt'), 'nothing-here')), undefined)
  const dir = await tempDir('ckpt')
  const params = freshParams()
  const record = await saveCheckpoint(dir, 1, params)
  const loaded = await loadCheckpoint(dir)
  assert.ok(loaded)
  assert.throws(() => restoreCheckpoint(loaded, freshParams(), adamw(freshParams())), {
    name: 'CheckpointError',
  })
  const other = [createParameter('w', zeros('float32', [D, K + 1]))]
  assert.throws(
    () => restoreCheckpoint(loaded, other),
    /'w' has shape \[5,3\], expected \[5,4\]; 'b' is not a parameter/,
  )
  assert.throws(() => assignParameters(freshParams(), new Map()), /'w' is missing; 'b' is missing/)
  await writeFile(join(dir, record.file), 'tampered')
  await assert.rejects(loadCheckpoint(dir), { name: 'CheckpointError', message: /damaged/ })
  await writeFile(join(dir, 'latest.json'), '{"version":1,"step":1,"file":"../../etc/passwd"}')
  await assert.rejects(loadCheckpoint(dir), {
    name: 'CheckpointError',
    message: /not a version-1 step record/,
  })
})
