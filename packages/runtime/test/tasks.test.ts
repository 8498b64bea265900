import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { float32, int64, mlp, readSafetensors, runReference, type Tensor } from '@atoll/core'
import {
  type Backend,
  CUDA_STEPS_PER_RUN,
  checkBatch,
  evaluate,
  type FitOptions,
  fit,
  lossTrend,
  nodeBackends,
  onnxModel,
  openDataSource,
  parametersOf,
  StepLog,
  stepsPerRunFor,
  trainableModel,
  weightsFile,
  zooModel,
} from '../src/index.ts'
import { tempDir } from './temp-dir.ts'

const cpu: Backend = await nodeBackends().resolve('cpu')

const model = { graph: mlp({ sizes: [6, 8, 3], seed: 4 }).graph, dataInput: 'x', loss: 'loss', label: 'mlp' }
/** A different batch every step, as a data stream would give. */
function batchOf(step: number): Record<string, Tensor> {
  return {
    x: float32(
      [4, 6],
      Array.from({ length: 24 }, (_, i) => Math.sin(i * 0.7 + step)),
    ),
    targets: int64([4], [step % 3, (step + 1) % 3, 2, 0]),
  }
}

function fitOptions(extra: Partial<FitOptions>): FitOptions {
  return {
    model,
    backend: cpu,
    batch: batchOf,
    optimizer: { kind: 'adamw', weightDecay: 0.05 },
    schedule: { kind: 'cosine', lr: 0.02, warmupSteps: 2, totalSteps: 8 },
    steps: 8,
    clipNorm: 1,
    ...extra,
  }
}

test('fit: stopping after 3 steps and resuming from the checkpoint gives the uninterrupted weights', async () => {
  const losses: number[] = []
  const dir = await tempDir('tasks')
  const log = (name: string) => join(dir, `${name}.jsonl`)
  const straight = await fit(fitOptions({ log: log('straight'), onStep: (r) => void losses.push(r.loss) }))
  assert.equal(losses.length, 8)
  assert.deepEqual(straight.losses, losses)
  const checkpoint = { dir: join(dir, 'ckpt'), every: 2 }
  const first = await fit(fitOptions({ steps: 3, checkpoint, log: log('resumed') }))
  assert.deepEqual([first.from, first.to], [0, 3])
  const resumedLosses: number[] = []
  const second = await fit(
    fitOptions({ checkpoint, log: log('resumed'), onStep: (r) => void resumedLosses.push(r.loss) }),
  )
  assert.deepEqual([second.from, second.to], [3, 8])
  assert.deepEqual(resumedLosses, losses.slice(3))
  assert.deepEqual(second.losses, resumedLosses)
  for (let i = 0; i < straight.params.length; i++)
    assert.deepEqual(second.params[i].value, straight.params[i].value)
  // the log of the interrupted run reads as the uninterrupted one's
  const lines = (await readFile(log('straight'), 'utf8')).trim().split('\n')
  assert.deepEqual(
    lines.map((l) => JSON.parse(l)),
    losses.map((loss, step) => ({ step, loss })),
  )
  assert.equal(await readFile(log('resumed'), 'utf8'), await readFile(log('straight'), 'utf8'))
  // the saved weights are what --init reads back
  const weights = readSafetensors(weightsFile(second.params, second.state)).tensors
  const again = await fit(fitOptions({ steps: 0, init: weights }))
  for (let i = 0; i < straight.params.length; i++)
    assert.deepEqual(again.params[i].value, straight.params[i].value)
})

test("fit with 3 steps per run: the stepwise run's losses and weights, checkpoints where due, exact resume", async () => {
  const dir = await tempDir('tasks')
  // no clipping (the loop does not clip); ε large enough that rounding noise in a zero gradient stays small
  const options = (extra: Partial<FitOptions>) =>
    fitOptions({ clipNorm: undefined, optimizer: { kind: 'adamw', weightDecay: 0.05, eps: 1e-4 }, ...extra })
  const stepwise = await fit(options({}))
  const seen: number[] = []
  const looped = await fit(options({ stepsPerRun: 3, onStep: (r) => void seen.push(r.step) }))
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7])
  for (const [k, l] of stepwise.losses.entries())
    assert.ok(Math.abs(l - looped.losses[k]) < 1e-5, `step ${k}: loss ${l} vs ${looped.losses[k]}`)
  for (const [i, p] of stepwise.params.entries())
    for (const [j, x] of p.value.entries())
      assert.ok(
        Math.abs(x - looped.params[i].value[j]) < 1e-5,
        `${p.name}[${j}]: ${x} vs ${looped.params[i].value[j]}`,
      )
  // every 2 steps a checkpoint: runs of 2, stopped at 5, resumed to 8, as if uninterrupted
  const checkpoint = { dir: join(dir, 'loop-ckpt'), every: 2 }
  const first = await fit(options({ stepsPerRun: 3, steps: 5, checkpoint }))
  assert.deepEqual([first.from, first.to], [0, 5])
  const second = await fit(options({ stepsPerRun: 3, checkpoint }))
  assert.equal(second.from, 5)
  const straight = await fit(
    options({ stepsPerRun: 3, checkpoint: { dir: join(dir, 'loop-straight'), every: 2 } }),
  )
  assert.deepEqual(second.losses, straight.losses.slice(5))
  for (const [i, p] of straight.params.entries()) assert.deepEqual(second.params[i].value, p.value)
  // a stepwise run resumes the loop's checkpoint: the moments are in AdamW's format
  const resumedStepwise = await fit(
    options({ steps: 6, checkpoint: { dir: join(dir, 'loop-ckpt'), every: 2 } }),
  )
  assert.equal(resumedStepwise.from, 8)
})

test('on cuda, fit takes CUDA_STEPS_PER_RUN steps per run where the loop computes the run, else one', async () => {
  // a backend that says cuda and computes on the CPU: fit's choice shows in how the steps report,
  // the loop's without a gradient norm and in runs of CUDA_STEPS_PER_RUN
  const cuda: Backend = { ...cpu, name: 'cuda' }
  const adamw = { optimizer: { kind: 'adamw' as const, weightDecay: 0.05 }, clipNorm: undefined }
  assert.equal(stepsPerRunFor(adamw, 'cuda'), CUDA_STEPS_PER_RUN)
  assert.equal(stepsPerRunFor(adamw, 'cpu'), 1)
  assert.equal(stepsPerRunFor({ ...adamw, stepsPerRun: 1 }, 'cuda'), 1)
  assert.equal(stepsPerRunFor({ ...adamw, clipNorm: 1 }, 'cuda'), 1)
  assert.equal(stepsPerRunFor({ ...adamw, optimizer: { kind: 'sgd' } }, 'cuda'), 1)
  assert.equal(stepsPerRunFor({ ...adamw, precision: 'fp16' }, 'cuda'), 1)
  assert.equal(stepsPerRunFor({ ...adamw, stages: 2 }, 'cuda'), 1)
  const norms = async (extra: Partial<FitOptions>) => {
    const seen: number[] = []
    await fit(
      fitOptions({
        backend: cuda,
        steps: CUDA_STEPS_PER_RUN + 2,
        ...extra,
        onStep: (r) => void seen.push(r.gradNorm),
      }),
    )
    return seen
  }
  const looped = await norms(adamw)
  assert.equal(looped.length, CUDA_STEPS_PER_RUN + 2)
  assert.ok(looped.every(Number.isNaN), 'the loop reports no gradient norm')
  assert.ok((await norms({})).every(Number.isFinite), 'with clipping, one step per run')
})

test('fit refuses steps per run with what the loop does not compute', async () => {
  await assert.rejects(fit(fitOptions({ stepsPerRun: 2 })), /2 steps per run need no gradient clipping/)
  await assert.rejects(
    fit(fitOptions({ stepsPerRun: 2, clipNorm: undefined, optimizer: { kind: 'sgd' } })),
    /need AdamW without AMSGrad/,
  )
  await assert.rejects(fit(fitOptions({ stepsPerRun: 0 })), /stepsPerRun/)
})

test("lossTrend: the mean of a run's first and last steps, over disjoint windows", () => {
  assert.deepEqual(lossTrend([4, 3, 2, 1]), { firstLoss: 3.5, lastLoss: 1.5, window: 2 })
  assert.deepEqual(lossTrend([5]), { firstLoss: 5, lastLoss: 5, window: 1 })
  const long = lossTrend(Array.from({ length: 100 }, (_, i) => 100 - i))
  assert.deepEqual(long, { firstLoss: 100 - 9.5, lastLoss: 1 + 9.5, window: 20 })
})

test('fit: --init weights must match the model by name and shape', async () => {
  const params = parametersOf(model.graph)
  const init = new Map(
    params.map((p) => [p.name, float32(p.shape, new Float32Array(p.value.length).fill(0.01))]),
  )
  const r = await fit(fitOptions({ steps: 0, init }))
  assert.ok(r.params.every((p) => p.value.every((v) => Math.abs(v - 0.01) < 1e-9)))
  init.delete(params[0].name)
  await assert.rejects(fit(fitOptions({ steps: 0, init })), {
    name: 'CheckpointError',
    message: /is missing/,
  })
})

test('the step log keeps only the steps before a resume point', async () => {
  const path = join(await tempDir('tasks'), 'log.jsonl')
  await writeFile(path, ['{"step":0,"loss":3}', '{"step":1,"loss":2}', '{"step":2,"loss":1}', ''].join('\n'))
  const log = new StepLog(path, 2)
  log.write({ step: 2, loss: 0.5 })
  assert.equal(
    await readFile(path, 'utf8'),
    '{"step":0,"loss":3}\n{"step":1,"loss":2}\n{"step":2,"loss":0.5}\n',
  )
})

test('evaluate: loss and arg-max accuracy agree with the reference interpreter', async () => {
  const params = parametersOf(model.graph)
  const batches = [batchOf(0), batchOf(1)]
  const r = await evaluate(model, params, cpu, batches)
  let loss = 0
  let correct = 0
  for (const b of batches) {
    const out = runReference(model.graph, b)
    loss += (out.loss.data as Float32Array)[0] / 2
    const logits = out[model.graph.outputs[0].name].data as Float32Array
    b.targets.data.forEach((t, i) => {
      const row = Array.from(logits.subarray(i * 3, i * 3 + 3))
      if (row.indexOf(Math.max(...row)) === Number(t)) correct++
    })
  }
  assert.ok(Math.abs(r.loss - loss) < 1e-5)
  assert.equal(r.accuracy, correct / 8)
  assert.equal(r.positions, 8)
})

test('trainableModel builds a zoo model or an ONNX file; a GPT takes a sequence length within its context', async () => {
  const short = trainableModel({ zoo: 'gpt2:tiny', seed: 3, seq: 8 })
  assert.deepEqual(short.graph.inputs.find((i) => i.name === short.dataInput)?.shape, ['batch', 8])
  const same = zooModel('gpt2:tiny', 3)
  assert.deepEqual(
    trainableModel({ zoo: 'gpt2:tiny', seed: 3 }).graph.initializers,
    same.graph.initializers,
    'the same weights as zooModel with the same seed',
  )
  const bytes = await readFile(new URL('fixtures/gpt_fit.onnx', import.meta.url))
  const onnx = trainableModel({ onnx: bytes, label: 'gpt_fit.onnx' })
  assert.equal(onnx.label, 'gpt_fit.onnx')
  assert.deepEqual(onnx.graph.initializers, onnxModel(bytes).graph.initializers)
  assert.throws(() => zooModel('gpt2:tiny', 0, 33), {
    name: 'TaskInputError',
    message: "a sequence of 33 tokens does not fit gpt2:tiny's context of 32",
  })
  assert.throws(() => zooModel('mlp', 0, 8), {
    name: 'TaskInputError',
    message: "'mlp' takes no sequence length, given 8",
  })
})

test('data streams: seeded training batches, ordered evaluation batches, shapes that fit the model', async () => {
  const gpt = zooModel('gpt2:tiny')
  const text = await openDataSource('moby-dick', gpt, { batchSize: 3, seed: 5, split: 'train' })
  const b = text.shuffled(7)
  assert.deepEqual(b.input_ids.shape, [3, 32])
  assert.deepEqual(b, text.shuffled(7))
  assert.notDeepEqual(b.input_ids.data, text.shuffled(8).input_ids.data)
  // a batch of another epoch between (each epoch's order is made once and kept): the same batch 7
  const later = text.shuffled(7 + text.batchesPerEpoch)
  assert.notDeepEqual(later.input_ids.data, b.input_ids.data)
  assert.deepEqual(text.shuffled(7), b)
  checkBatch(b, gpt.graph)
  const images = await openDataSource('mnist', zooModel('mlp'), { batchSize: 10, split: 'eval' })
  assert.deepEqual(images.ordered(0).x.shape, [10, 784]) // flattened for the MLP
  await assert.rejects(openDataSource('mnist', gpt, { batchSize: 2, split: 'eval' }), {
    name: 'TaskInputError',
  })
  await assert.rejects(openDataSource('wiki', gpt, { batchSize: 2, split: 'eval' }), {
    name: 'TaskInputError',
  })
  assert.throws(() => checkBatch({ ...b, extra: b.targets }, gpt.graph), /'extra' is not an input/)
})
