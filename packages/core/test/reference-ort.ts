/**
 * Running one-node graphs with both the reference interpreter and onnxruntime-node CPU, for the
 * cross-check tests (reference-onnxruntime, reference-sweep).
 */
import assert from 'node:assert/strict'
import * as ort from 'onnxruntime-node'
import { exportOnnx } from '../src/onnx/index.ts'
import { inferShapes } from '../src/ops/index.ts'
import { runReference } from '../src/reference/index.ts'
import { type Tensor, tensor } from '../src/tensor.ts'
import { graphOf, node, values } from './ops-helpers.ts'

/** Seeded uniform numbers in [lo, hi) (a linear congruential generator; inputs, not statistics). */
export function randn(shape: number[], seed: number, lo = -2, hi = 2): Tensor {
  let s = seed >>> 0
  const n = shape.reduce((a, b) => a * b, 1)
  const v = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    v[i] = lo + ((hi - lo) * s) / 2 ** 32
  }
  return tensor('float32', shape, v)
}

export interface Case {
  op: string
  /** in node order; null marks an omitted optional input ('') */
  inputs: Record<string, Tensor | null>
  attrs?: Parameters<typeof node>[3]
  opset?: number
  outputs?: number
}

/** Graph inputs for float tensors; int64 tensors are initializers, as exporters write them. */
function caseGraph(c: Case) {
  const given = Object.fromEntries(
    Object.entries(c.inputs).filter((e): e is [string, Tensor] => e[1] !== null),
  )
  const names = Object.keys(given)
  const isInit = (n: string) => given[n].dtype === 'int64'
  const outputs = Array.from({ length: c.outputs ?? 1 }, (_, i) => `y${i}`)
  const g = graphOf({
    opset: c.opset ?? 18,
    inputs: Object.fromEntries(
      names.filter((n) => !isInit(n)).map((n) => [n, [given[n].dtype, [...given[n].shape]]]),
    ),
    initializers: Object.fromEntries(names.filter(isInit).map((n) => [n, given[n]])),
    nodes: [
      node(
        c.op,
        Object.keys(c.inputs).map((n) => (c.inputs[n] === null ? '' : n)),
        outputs,
        c.attrs ?? {},
        `${c.op}_under_test`,
      ),
    ],
    outputs,
  })
  const types = inferShapes(g)
  g.outputs = outputs.map((o) => types.get(o) ?? { name: o, dtype: 'float32' })
  const feeds = Object.fromEntries(names.filter((n) => !isInit(n)).map((n) => [n, given[n]]))
  return { g, feeds, outputs }
}

/** Runs `c` with both and asserts equal shapes and values within 2e-5 relative (floor 1). */
export async function compareWithOrt(c: Case): Promise<void> {
  const { g, feeds, outputs } = caseGraph(c)
  const ours = runReference(g, feeds)
  // errors only: onnxruntime warns where its static shape inference is laxer than its kernels
  const session = await ort.InferenceSession.create(exportOnnx(g), { logSeverityLevel: 3 })
  try {
    const ortFeeds = Object.fromEntries(
      Object.entries(feeds).map(([n, t]) => [
        n,
        new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, [...t.shape]),
      ]),
    )
    const theirs = await session.run(ortFeeds)
    for (const o of outputs) {
      assert.deepEqual([...ours[o].shape], [...theirs[o].dims], `${o} shape`)
      const a = values(ours[o])
      const b = Array.from(theirs[o].data as ArrayLike<number | bigint>, Number)
      a.forEach((v, i) => {
        const ok = v === b[i] || Math.abs(v - b[i]) <= 2e-5 * Math.max(1, Math.abs(b[i]))
        assert.ok(ok, `${o}[${i}]: ours ${v}, onnxruntime ${b[i]}`)
      })
    }
  } finally {
    await session.release()
  }
}
