/**
 * Every zoo model's training step on each GPU backend (onnxruntime's CUDA and WebGPU providers)
 * gives the CPU step's loss and gradients. Skipped only where the GPU is absent (device.ts); on a
 * GPU machine ATOLL_REQUIRE_DEVICE=cuda,webgpu makes a skip a failure. CUDA runs fp32 MatMuls and
 * convolutions as TF32 by default (onnxruntime-node cannot turn that off), hence its looser
 * tolerance: a ResNet's training BatchNorms over few values amplify TF32's rounding, up to 6.4 % in a
 * layer4 BatchNorm's gradient on an H100. The bug this caught was off by over 100 %. Mixed precision (float16 products,
 * loss scaling) on each GPU follows the float32 loss curve there.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { float32, gpt2, int64, mlp, mnistCnn, resnet, type Tensor, type ZooModel } from '@atoll/core'
import {
  type Backend,
  DynamicLossScale,
  nodeBackends,
  parametersOf,
  pipelineModel,
  type Precision,
  StepLoopTrainer,
  zeroGrads,
} from '../src/index.ts'
import { deviceUnderTest } from './device.ts'
import { fixedBatchLosses } from './fixed-batch.ts'

/** below this norm a gradient is float noise (see pytorch-reference.test.ts) */
const NORM_FLOOR = 1e-2
const registry = nodeBackends()
const cpu = await registry.resolve('cpu')
const releases: (() => Promise<void>)[] = []
after(() => Promise.all(releases.map((release) => release())))

/** Deterministic values in [-1, 1) */
const wave = (n: number, k: number) =>
  Array.from({ length: n }, (_, i) => (((i * 37 + k * 11) % 200) - 100) / 100)
const labels = (n: number, classes: number) =>
  int64(
    [n],
    Array.from({ length: n }, (_, i) => (i * 7) % classes),
  )

const MODELS: Record<string, { model: ZooModel; batch: Record<string, Tensor> }> = {
  'gpt2 tiny': {
    model: gpt2({ config: 'tiny', seed: 3 }),
    batch: {
      input_ids: int64(
        [2, 32],
        wave(64, 0).map((v) => Math.floor((v + 1) * 128)),
      ),
      targets: int64(
        [2, 32],
        wave(64, 1).map((v) => Math.floor((v + 1) * 128)),
      ),
    },
  },
  mlp: { model: mlp({ seed: 1 }), batch: { x: float32([4, 784], wave(4 * 784, 2)), targets: labels(4, 10) } },
  'mnist cnn': {
    model: mnistCnn({ seed: 1 }),
    batch: { x: float32([4, 1, 28, 28], wave(4 * 784, 3)), targets: labels(4, 10) },
  },
  // 64² and 4 images: BatchNorm over layer4's 2 images × 1×1 at 32² turned TF32's rounding into 1 %
  'resnet18 (width 0.25, 64×64)': {
    model: resnet({ depth: 18, width: 0.25, imageSize: 64, classes: 10, seed: 1 }),
    batch: { x: float32([4, 3, 64, 64], wave(4 * 3 * 4096, 4)), targets: labels(4, 10) },
  },
}

async function step(backend: Backend, { model, batch }: { model: ZooModel; batch: Record<string, Tensor> }) {
  const { params, pipeline } = pipelineModel(model.graph, { backend })
  releases.push(() => pipeline.release())
  zeroGrads(params)
  const { loss } = await pipeline.step(batch)
  return { loss, grads: new Map(params.map((p) => [p.name, Float32Array.from(p.grad)])) }
}

for (const [device, tolerance] of [
  ['cuda', 1e-1],
  ['webgpu', 1e-3],
] as const) {
  const { skip, backend } = deviceUnderTest(registry, device)
  for (const [name, setting] of Object.entries(MODELS)) {
    test(`${name}: a training step on ${device} gives the CPU's loss and gradients`, { skip }, async () => {
      const want = await step(cpu, setting)
      const got = await step(await backend(), setting)
      assert.ok(
        Math.abs(got.loss - want.loss) <= tolerance * Math.max(1, Math.abs(want.loss)),
        `${got.loss} vs ${want.loss}`,
      )
      // per parameter, norm-wise (as the PyTorch comparisons): TF32 rounding moves single elements,
      // and a gradient whose true value is ~0 (a conv bias before training BatchNorm) is noise
      for (const [param, g] of got.grads) {
        const w = want.grads.get(param)!
        let diff = 0
        let norm = 0
        for (let i = 0; i < g.length; i++) {
          diff += (g[i] - w[i]) ** 2
          norm += w[i] ** 2
        }
        const error = Math.sqrt(diff) / Math.max(Math.sqrt(norm), NORM_FLOOR)
        assert.ok(error <= tolerance, `${param}: relative error ${error.toExponential(2)}`)
      }
    })
  }
}

/** The loss before each of 5 AdamW steps on a fixed batch. */
async function curve(backend: Backend, precision: Precision) {
  const { model, batch } = MODELS['gpt2 tiny']
  const pipelined = pipelineModel(model.graph, { backend, precision })
  releases.push(() => pipelined.pipeline.release())
  const lossScale = precision === 'fp16' ? new DynamicLossScale() : undefined
  return (await fixedBatchLosses(pipelined, batch, 5, undefined, lossScale)).losses
}

for (const device of ['cuda', 'webgpu']) {
  const { skip, backend } = deviceUnderTest(registry, device)
  test(`fp16 on ${device}: the GPT's loss curve follows float32's on the same batch`, { skip }, async () => {
    const gpu = await backend()
    const [fp32, fp16] = [await curve(gpu, 'fp32'), await curve(gpu, 'fp16')]
    for (const [i, l] of fp16.entries())
      assert.ok(Math.abs(l - fp32[i]) <= 1e-2 * fp32[i], `step ${i}: ${l} vs ${fp32[i]}`)
    assert.ok(fp16[4] < fp16[0] - 0.1, `the loss should fall: ${fp16.map((l) => l.toFixed(3))}`)
  })
}

/** The loss before each of 5 AdamW steps on a fixed batch, all 5 in one session run. */
async function loopCurve(backend: Backend) {
  const { model, batch } = MODELS['gpt2 tiny']
  const params = parametersOf(model.graph)
  const loop = new StepLoopTrainer({
    backend,
    graph: model.graph,
    params: new Map(params.map((p) => [p.name, p])),
  })
  releases.push(() => loop.release())
  return loop.run(Array(5).fill(batch), Array(5).fill(1e-3))
}

for (const device of ['cuda', 'webgpu']) {
  const { skip, backend } = deviceUnderTest(registry, device)
  test(`steps per run on ${device}: 5 AdamW steps in one session run give the CPU's losses`, {
    skip,
  }, async () => {
    const [want, got] = [await loopCurve(cpu), await loopCurve(await backend())]
    for (const [i, l] of got.entries())
      assert.ok(Math.abs(l - want[i]) <= 1e-2 * want[i], `step ${i}: ${l} vs ${want[i]}`)
    assert.ok(got[4] < got[0] - 0.1, `the loss should fall: ${got.map((l) => l.toFixed(3))}`)
  })
}
