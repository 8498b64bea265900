/**
 * FLOP/s calibration: times square MatMuls in onnxruntime-node on the chosen execution provider. A
 * CPU times one MatMul; a GPU a chain of them ending in one sum, since onnxruntime-node copies every
 * input to the device and every output back per run, and one MatMul would time the copies.
 */
import { exportOnnx, GraphBuilder } from '@atoll/core'
import * as ort from 'onnxruntime-node'

/** CPU: 2·512³ ≈ 268 MFLOP per run, a few ms on a core, big enough to reach steady state. */
const CPU_CALIBRATION = { side: 512, chain: 1 }
/** GPU: 8 · 2·2048³ ≈ 137 GFLOP per run, milliseconds on a data-centre GPU, beside 16 MB copied in. */
const GPU_CALIBRATION = { side: 2048, chain: 8 }
/** Timed runs stop once this much time has been spent (after one warm-up run). */
const BUDGET_SECONDS = 0.3
const MAX_RUNS = 50

export interface Calibration {
  /** Execution provider that ran it: `cpu`, `cuda`, `webgpu`. */
  device: string
  flops: number
  side: number
  /** MatMuls per run */
  chain: number
  runs: number
}

/** Times the calibration MatMul on `device`; throws when that provider cannot create the session. */
export async function calibrate(device = 'cpu'): Promise<Calibration> {
  const { side: n, chain } = device === 'cpu' ? CPU_CALIBRATION : GPU_CALIBRATION
  const session = await ort.InferenceSession.create(matmulModel(n, chain), { executionProviders: [device] })
  try {
    // entries of size about 1/n keep a chain's products finite
    const a = new ort.Tensor(
      'float32',
      Float32Array.from({ length: n * n }, (_, i) => ((i % 17) - 8) / (8 * n)),
      [n, n],
    )
    const feeds = { A: a, B: a }
    await session.run(feeds) // warm-up: first run allocates and plans
    const times: number[] = []
    const start = performance.now()
    while (times.length < MAX_RUNS && (performance.now() - start) / 1000 < BUDGET_SECONDS) {
      const t = performance.now()
      await session.run(feeds)
      times.push((performance.now() - t) / 1000)
    }
    times.sort((x, y) => x - y)
    const flops = (chain * 2 * n ** 3) / times[times.length >> 1]
    return { device, flops, side: n, chain, runs: times.length }
  } finally {
    await session.release()
  }
}

/**
 * An ONNX model over float32 [n, n] inputs A and B: `C = MatMul(A, B)`, or for a chain of k > 1,
 * C = ReduceSum(A·B·B·…·B) with k MatMuls, a [1, 1] sum.
 */
export function matmulModel(size: number, chain = 1): Uint8Array {
  const b = new GraphBuilder('calibration')
  const [a, w] = ['A', 'B'].map((name) => b.input(name, 'float32', [size, size]))
  let product = a
  for (let k = 0; k < chain; k++)
    product = b.node('MatMul', [product, w], {}, { outputs: [chain === 1 ? 'C' : `P${k}`] })[0]
  if (chain > 1) b.node('ReduceSum', [product], {}, { outputs: ['C'] })
  b.output('C', 'float32', chain === 1 ? [size, size] : [1, 1])
  return exportOnnx(b.build())
}
