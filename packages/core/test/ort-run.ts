/** Runs a graph with no graph inputs (its values are initializers) in onnxruntime-node's CPU provider. */
import * as ort from 'onnxruntime-node'
import { exportOnnx } from '../src/onnx/index.ts'
import type { Graph } from '../src/graph/types.ts'

/** Every output of `graph`, as float32 arrays. */
export async function runOrt(graph: Graph): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(exportOnnx(graph))
  try {
    const out = await session.run({})
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]))
  } finally {
    await session.release()
  }
}
