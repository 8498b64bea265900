/**
 * The WebGPU backend (onnxruntime-node's Dawn provider). Skipped only where there is no GPU (no
 * device node: see device.ts); where there is one, a missing Vulkan driver or loader, or a backend
 * that does not start, fails these tests. ATOLL_REQUIRE_DEVICE=webgpu turns the skip into a failure.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { exportOnnx, float32, gpt2, int64, type Tensor } from '@atoll/core'
import { type Backend, nodeBackends, type Parameter, pipelineModel, zeroGrads } from '../src/index.ts'
import { deviceUnderTest } from './device.ts'
import { fixedBatchLosses } from './fixed-batch.ts'

const registry = nodeBackends()
const cpu = await registry.resolve('cpu')
const { skip, backend: webgpu } = deviceUnderTest(registry, 'webgpu')
const releases: (() => Promise<void>)[] = []
after(() => Promise.all(releases.map((r) => r())))

const model = gpt2({ config: 'tiny', seed: 3 })
const ids = (k: number) =>
  int64(
    [4, 32],
    Array.from({ length: 128 }, (_, i) => (i * 29 + k * 13) % 256),
  )
const batch: Record<string, Tensor> = { input_ids: ids(0), targets: ids(1) }

test('values copied to the GPU feed a session and read back on the host', { skip }, async () => {
  const gpu = await webgpu()
  const [w] = Object.values(await gpu.toDevice!({ w: float32([2, 2], [1, 2, 3, 4]) }))
  assert.equal(w.location, 'gpu')
  const twice = {
    name: 'twice',
    nodes: [{ name: 'a', opType: 'Add', inputs: ['x', 'x'], outputs: ['y'], attributes: {}, scope: '' }],
    inputs: [{ name: 'x', dtype: 'float32' as const, shape: [2, 2] }],
    outputs: [{ name: 'y', dtype: 'float32' as const, shape: [2, 2] }],
    initializers: new Map(),
    parameters: new Set<string>(),
    valueInfo: new Map(),
    opset: 18,
  }
  const session = await gpu.createSession({ onnx: exportOnnx(twice) })
  const once = await session.run({ x: w })
  assert.equal(once.y.location, 'gpu')
  const again = await session.run({ x: once.y }) // a device value fed without a round trip
  assert.deepEqual(Array.from((await again.y.read()).data as Float32Array), [4, 8, 12, 16])
  await session.release()
})

async function gradients(backend: Backend, stages: number, microBatches: number) {
  const { params, pipeline } = pipelineModel(model.graph, { backend, stages })
  releases.push(() => pipeline.release())
  zeroGrads(params)
  const { loss } = await pipeline.step(batch, { microBatches })
  return { loss, grads: new Map(params.map((p: Parameter) => [p.name, Float32Array.from(p.grad)])) }
}

test('3 stages × 2 micro-batches on WebGPU: loss and gradients equal the CPU run', { skip }, async () => {
  const gpu = await webgpu()
  const want = await gradients(cpu, 3, 2)
  const got = await gradients(gpu, 3, 2)
  assert.ok(Math.abs(got.loss - want.loss) < 1e-4, `${got.loss} vs ${want.loss}`)
  let scale = 0
  for (const g of want.grads.values()) for (const v of g) scale = Math.max(scale, Math.abs(v))
  for (const [name, g] of got.grads) {
    const w = want.grads.get(name)!
    for (let i = 0; i < g.length; i++)
      assert.ok(Math.abs(g[i] - w[i]) <= 1e-3 * scale, `${name}[${i}]: ${g[i]} vs ${w[i]}`)
  }
})

test('training on WebGPU sees each update: weights go to the GPU once per step', { skip }, async () => {
  const pipelined = pipelineModel(model.graph, { backend: await webgpu(), stages: 2 })
  releases.push(() => pipelined.pipeline.release())
  const { losses } = await fixedBatchLosses(pipelined, batch, 6, 2)
  assert.ok(
    losses[5] < losses[0] - 0.2,
    `loss should fall on a fixed batch: ${losses.map((l) => l.toFixed(3))}`,
  )
})
