/**
 * Several AdamW steps in one session run (StepLoopTrainer, core's buildStepLoop) against the same
 * steps taken one at a time: the monolithic forward+backward session and the host AdamW. The two
 * compute in float32 in a different association order, so they agree to rounding, not bit for bit.
 * ε is 1e-4 rather than 1e-8 in the comparisons: parameters whose gradient is zero in exact
 * arithmetic (an attention key's bias, a convolution's bias before BatchNorm) get rounding noise as
 * gradient, which Adam with a tiny ε scales up to a full step of ±lr on each side independently.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { float32, gpt2, int64, mnistCnn, type Tensor, type ZooModel } from '@atoll/core'
import {
  adamw,
  type Backend,
  modelState,
  MonolithicTrainer,
  nodeBackends,
  parametersOf,
  StepLoopTrainer,
  zeroGrads,
} from '../src/index.ts'

const EPS = 1e-4
const cpu: Backend = await nodeBackends().resolve('cpu')

const wave = (n: number, phase: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + phase))
const labels = (n: number, classes: number, step: number) =>
  int64(
    [n],
    Array.from({ length: n }, (_, i) => (i * 3 + step) % classes),
  )

function tokens(step: number): Record<string, Tensor> {
  const ids = (k: number) =>
    int64(
      [2, 16],
      Array.from({ length: 32 }, (_, i) => (i * 7 + step * 5 + k) % 64),
    )
  return { input_ids: ids(0), targets: ids(3) }
}

function images(step: number): Record<string, Tensor> {
  return { x: float32([4, 1, 28, 28], wave(4 * 784, step)), targets: labels(4, 10, step) }
}

/** Both ways over the same batches and learning rates; returns the max relative parameter difference. */
async function compare(
  model: ZooModel,
  batches: Record<string, Tensor>[],
  lrs: number[],
  decays?: (n: string) => boolean,
) {
  const stepwise = structuredCloneModel(model)
  const looped = structuredCloneModel(model)
  const paramsA = parametersOf(stepwise.graph)
  const mono = new MonolithicTrainer({
    backend: cpu,
    graph: stepwise.graph,
    params: new Map(paramsA.map((p) => [p.name, p])),
  })
  const opt = adamw(paramsA, { weightDecay: 0.1, eps: EPS, decays })
  const lossesA: number[] = []
  for (const [k, batch] of batches.entries()) {
    zeroGrads(paramsA)
    lossesA.push(await mono.run(batch))
    opt.step(lrs[k])
  }
  const paramsB = parametersOf(looped.graph)
  const loop = new StepLoopTrainer({
    backend: cpu,
    graph: looped.graph,
    params: new Map(paramsB.map((p) => [p.name, p])),
    weightDecay: 0.1,
    eps: EPS,
    decays,
  })
  // two runs: the second starts from the first's weights, moments and step count
  const split = Math.floor(batches.length / 2)
  const lossesB = [
    ...(await loop.run(batches.slice(0, split), lrs.slice(0, split))),
    ...(await loop.run(batches.slice(split), lrs.slice(split))),
  ]
  assert.equal(loop.steps, batches.length)
  for (const [k, l] of lossesA.entries())
    assert.ok(Math.abs(l - lossesB[k]) <= 1e-4 * Math.abs(l), `loss ${k}: ${l} vs ${lossesB[k]}`)
  let worst = 0
  for (const [k, a] of paramsA.entries()) {
    const b = paramsB[k]
    let diff = 0
    let norm = 0
    for (let i = 0; i < a.value.length; i++) {
      diff = Math.max(diff, Math.abs(a.value[i] - b.value[i]))
      norm = Math.max(norm, Math.abs(a.value[i]))
    }
    worst = Math.max(worst, diff / norm)
  }
  // the moments export in adamw's format and agree as well
  const [sa, sb] = [opt.exportState(), loop.exportState()]
  assert.equal(sb.steps, sa.steps)
  assert.deepEqual(sb.options, sa.options)
  for (const [name, t] of sa.tensors) {
    const u = sb.tensors.get(name)
    assert.ok(u, `the loop's state has ${name}`)
    const d = (t.data as Float32Array).reduce(
      (acc, x, i) => Math.max(acc, Math.abs(x - (u.data as Float32Array)[i])),
      0,
    )
    const n = (t.data as Float32Array).reduce((acc, x) => Math.max(acc, Math.abs(x)), 0)
    assert.ok(d <= 1e-3 * n + 1e-7, `${name}: differs by ${d} (max ${n})`)
  }
  opt.close()
  await Promise.all([mono.release(), loop.release()])
  return { worst, stepwise, looped }
}

function structuredCloneModel(model: ZooModel): ZooModel {
  const graph = {
    ...model.graph,
    initializers: new Map(
      [...model.graph.initializers].map(([k, t]) => [k, { ...t, data: t.data.slice() } as Tensor]),
    ),
  }
  return { ...model, graph }
}

test('a GPT trained 4 AdamW steps in two loop runs matches 4 single steps with the host optimizer', async () => {
  const model = gpt2({ config: { vocab: 64, ctx: 16, d: 32, layers: 2, heads: 2 }, seed: 3 })
  const batches = [0, 1, 2, 3].map(tokens)
  // a schedule: each step its own learning rate; biases and norms do not decay
  const decays = (n: string) => !n.endsWith('.bias') && !n.includes('ln')
  const { worst } = await compare(model, batches, [1e-2, 8e-3, 6e-3, 4e-3], decays)
  assert.ok(worst < 5e-5, `parameters differ by ${worst} of their largest value`)
})

test('a CNN with BatchNorm: the running statistics follow every step of the loop', async () => {
  const model = mnistCnn({ seed: 2 })
  const { worst, stepwise, looped } = await compare(model, [0, 1, 2].map(images), [1e-3, 1e-3, 1e-3])
  assert.ok(worst < 5e-5, `parameters differ by ${worst} of their largest value`)
  const [a, b] = [modelState(stepwise.graph), modelState(looped.graph)]
  assert.ok(a.size > 0)
  for (const [name, t] of a) {
    const u = b.get(name)!.data as Float32Array
    for (const [i, x] of (t.data as Float32Array).entries())
      assert.ok(Math.abs(x - u[i]) <= 1e-5 * Math.max(1, Math.abs(x)), `${name}[${i}]: ${x} vs ${u[i]}`)
    assert.ok(!(t.data as Float32Array).every((x) => x === 0 || x === 1), `${name} moved`)
  }
})

test('bad calls are refused by name', async () => {
  const model = gpt2({ config: { vocab: 64, ctx: 16, d: 32, layers: 1, heads: 2 }, seed: 1 })
  const params = parametersOf(model.graph)
  const loop = new StepLoopTrainer({
    backend: cpu,
    graph: model.graph,
    params: new Map(params.map((p) => [p.name, p])),
  })
  await assert.rejects(loop.run([], []), /at least one batch/)
  await assert.rejects(loop.run([tokens(0)], [1e-3, 1e-3]), /1 batches but 2 learning rates/)
  await assert.rejects(loop.run([tokens(0)], [-1]), /learning rate must be ≥ 0/)
  const short = { ...tokens(1), input_ids: int64([1, 16], Array(16).fill(0)) }
  await assert.rejects(loop.run([tokens(0), short], [1e-3, 1e-3]), /batch 1 has 'input_ids' int64\[1,16\]/)
  assert.throws(
    () => new StepLoopTrainer({ backend: cpu, graph: model.graph, params: new Map(), eps: 1e-8 }),
    /no live parameter/,
  )
  await loop.release()
})
