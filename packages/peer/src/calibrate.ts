/** FLOP/s calibration: times a fixed square MatMul in onnxruntime-node on the chosen execution provider. */
import { exportOnnx, GraphBuilder } from '@atoll/core'
import * as ort from 'onnxruntime-node'

/** Matrix side: 2·512³ ≈ 268 MFLOP per run, a few ms on a CPU core, big enough to reach steady state. */
export const CALIBRATION_SIDE = 512
/** Timed runs stop once this much time has been spent (after one warm-up run). */
const BUDGET_SECONDS = 0.3
const MAX_RUNS = 50

export interface Calibration {
  /** Execution provider that ran it: `cpu`, `cuda`, `webgpu`. */
  device: string
  flops: number
  side: number
  runs: number
}

/** Times the calibration MatMul on `device`; throws when that provider cannot create the session. */
export async function calibrate(device = 'cpu'): Promise<Calibration> {
  const n = CALIBRATION_SIDE
  const session = await ort.InferenceSession.create(matmulModel(n), { executionProviders: [device] })
  try {
    const a = new ort.Tensor(
      'float32',
      Float32Array.from({ length: n * n }, (_, i) => ((i % 17) - 8) / 8),
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
    return { device, flops: (2 * n ** 3) / times[times.length >> 1], side: n, runs: times.length }
  } finally {
    await session.release()
  }
}

/** Execution providers this build of onnxruntime-node carries (`cpu`, `webgpu`, `cuda`…). */
export function bundledProviders(): string[] {
  return ort.listSupportedBackends().map((b) => b.name)
}

/** An ONNX model `C = MatMul(A, B)` over float32 [n, n] inputs. */
export function matmulModel(size: number): Uint8Array {
  const b = new GraphBuilder('calibration')
  const inputs = ['A', 'B'].map((name) => b.input(name, 'float32', [size, size]))
  b.node('MatMul', inputs, {}, { outputs: ['C'] })
  b.output('C', 'float32', [size, size])
  return exportOnnx(b.build())
}
