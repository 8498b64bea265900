/**
 * Mixed precision (`precision: 'fp16'`): matrix products in float16 over float32 master weights,
 * with dynamic loss scaling. On onnxruntime's CPU provider, which runs float16 MatMul and Gemm, a
 * GPT's loss curve on a fixed batch follows the float32 one; gpu-zoo.test.ts runs it on the GPUs.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { AUTOCAST_OPS, autocast, gpt2, inferTypes, int64, type Tensor } from '@atoll/core'
import {
  DynamicLossScale,
  nodeBackends,
  type Parameter,
  pipelineModel,
  type Precision,
} from '../src/index.ts'
import { fixedBatchLosses } from './fixed-batch.ts'

const cpu = await nodeBackends().resolve('cpu')
const releases: (() => Promise<void>)[] = []
after(() => Promise.all(releases.map((release) => release())))

const model = gpt2({ config: 'tiny', seed: 5 })
const ids = (k: number) =>
  int64(
    [4, 32],
    Array.from({ length: 128 }, (_, i) => (i * 29 + k * 13) % 256),
  )
const batch: Record<string, Tensor> = { input_ids: ids(0), targets: ids(1) }

test('autocast computes every float32 matrix product in float16 and leaves the rest float32', () => {
  const cast = autocast(model.graph)
  const { types } = inferTypes(cast)
  const products = cast.nodes.filter((n) => AUTOCAST_OPS.has(n.opType))
  assert.ok(products.length > 10)
  for (const n of products)
    for (const input of n.inputs.filter(Boolean))
      assert.equal(types.get(input)?.dtype, 'float16', `${n.name} reads ${input}`)
  assert.deepEqual(
    cast.outputs.map((o) => [o.name, types.get(o.name)?.dtype]),
    model.graph.outputs.map((o) => [o.name, 'float32']),
  )
  assert.deepEqual([...cast.parameters], [...model.graph.parameters])
  // a weight read by several products is cast once
  const casts = cast.nodes.filter((n) => n.opType === 'Cast').map((n) => n.inputs[0])
  assert.equal(new Set(casts).size, casts.length)
})

async function losses(precision: Precision, lossScale?: DynamicLossScale, steps = 5) {
  const model16 = pipelineModel(model.graph, { backend: cpu, precision })
  releases.push(() => model16.pipeline.release())
  const { reports } = await fixedBatchLosses(model16, batch, steps, undefined, lossScale)
  return { reports, params: model16.params }
}

test('a float16 run with loss scaling follows the float32 loss curve on the same batch', async () => {
  const fp32 = (await losses('fp32')).reports.map((r) => r.loss)
  const fp16 = (await losses('fp16', new DynamicLossScale())).reports
  assert.ok(fp16.every((r) => !r.skipped))
  for (const [i, r] of fp16.entries())
    assert.ok(Math.abs(r.loss - fp32[i]) <= 2e-3 * fp32[i], `step ${i}: fp16 ${r.loss} vs fp32 ${fp32[i]}`)
  assert.ok(fp16[4].loss < fp16[0].loss - 0.1, `the loss should fall: ${fp16.map((r) => r.loss.toFixed(3))}`)
})

test('a loss scale that overflows float16 skips those steps, leaves the weights alone and halves until it fits', async () => {
  const scaler = new DynamicLossScale({ initial: 2 ** 40 })
  const { reports, params } = await losses('fp16', scaler, 1)
  assert.equal(reports[0].skipped, true)
  assert.equal(scaler.scale, 2 ** 39)
  const before = params.map((p: Parameter) => Float32Array.from(p.value))
  const initial = pipelineModel(model.graph, { backend: cpu }).params
  for (const [i, p] of params.entries())
    assert.deepEqual(before[i], initial[i].value, `${p.name} changed on a skipped step`)
})

test('the loss scale doubles after its growth interval of good steps, and refuses a bad setting', () => {
  const scaler = new DynamicLossScale({ initial: 4, growthInterval: 2 })
  const p: Parameter[] = [{ name: 'w', shape: [2], value: new Float32Array(2), grad: Float32Array.of(8, 4) }]
  assert.equal(scaler.unscale(p), true)
  assert.deepEqual([...p[0].grad], [2, 1])
  assert.equal(scaler.scale, 4)
  assert.equal(scaler.unscale(p), true)
  assert.equal(scaler.scale, 8)
  p[0].grad[0] = Number.POSITIVE_INFINITY
  assert.equal(scaler.unscale(p), false)
  assert.equal(scaler.scale, 4)
  assert.throws(() => new DynamicLossScale({ initial: 0 }), /a loss scale must be a finite number > 0, got 0/)
  assert.throws(() => new DynamicLossScale({ growthInterval: 0.5 }), /growth interval must be a whole number/)
})
