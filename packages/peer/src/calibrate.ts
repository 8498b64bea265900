/**
 * FLOP/s calibration: times a fixed square MatMul in onnxruntime-node on the chosen execution provider.
 * The model is written out by hand (a dozen protobuf fields) so that the daemon does not depend on the
 * model layers to know how fast it is.
 */
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

/** An ONNX model `C = MatMul(A, B)` over float32 [n, n] inputs (IR 8, opset 17). */
export function matmulModel(n: number): Uint8Array {
  const FLOAT = 1
  const dims = [n, n].map((d) => field(1, varint(1, d)))
  // ValueInfoProto { name = 1; type = 2: TypeProto { tensor_type = 1: { elem_type = 1; shape = 2 } } }
  const valueInfo = (name: string) =>
    concat(str(1, name), field(2, field(1, varint(1, FLOAT), field(2, ...dims))))
  const node = field(1, str(1, 'A'), str(1, 'B'), str(2, 'C'), str(3, 'matmul'), str(4, 'MatMul'))
  const graph = field(
    7,
    node,
    str(2, 'calibration'),
    field(11, valueInfo('A')),
    field(11, valueInfo('B')),
    field(12, valueInfo('C')),
  )
  return concat(varint(1, 8), str(2, 'atoll'), graph, field(8, str(1, ''), varint(2, 17)))
}

// --- a minimal protobuf writer: varints, length-delimited fields ---

function tag(num: number, wireType: number): Uint8Array {
  return rawVarint(num * 8 + wireType)
}

function rawVarint(v: number): Uint8Array {
  const out: number[] = []
  while (v > 127) {
    out.push((v % 128) | 128)
    v = Math.floor(v / 128)
  }
  out.push(v)
  return Uint8Array.from(out)
}

function lengthOf(n: number): Uint8Array {
  return rawVarint(n)
}

function varint(num: number, v: number): Uint8Array {
  return concat(tag(num, 0), rawVarint(v))
}

function str(num: number, s: string): Uint8Array {
  const bytes = new TextEncoder().encode(s)
  return concat(tag(num, 2), lengthOf(bytes.byteLength), bytes)
}

function field(num: number, ...body: Uint8Array[]): Uint8Array {
  const inner = concat(...body)
  return concat(tag(num, 2), lengthOf(inner.byteLength), inner)
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let off = 0
  for (const p of parts) {
    out.set(p, off)
    off += p.byteLength
  }
  return out
}
