/**
 * Real exporter output with dynamic axes (test/ops-exports, made by make_exports.py): Hugging Face
 * GPT-2 (dynamo), a nanoGPT-style model (both exporters), a torchvision-layout ResNet (eval and training BatchNorm) and an MLP, each through
 * the TorchScript and/or dynamo exporter. Shape inference must keep the batch (and sequence) dims
 * symbolic without bindings, and with bindings must predict every executed value exactly; the
 * reference interpreter must reproduce onnxruntime's logits at two different batch sizes.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import * as ort from 'onnxruntime-node'
import { importOnnx } from '../src/onnx/index.ts'
import { inferShapes } from '../src/ops/index.ts'
import { runReference } from '../src/reference/index.ts'
import { int64, type Tensor, tensor } from '../src/tensor.ts'

const DIR = new URL('./ops-exports/', import.meta.url)
const manifest: { variants: Record<string, { ok: boolean; train?: boolean }> } = JSON.parse(
  readFileSync(new URL('manifest.json', DIR), 'utf8'),
)

/** Deterministic pseudo-random inputs (an LCG; values only need to be varied). */
function lcg(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

function inputFor(tag: string, batch: number, seed: number): Tensor {
  const r = lcg(seed)
  if (/gpt/.test(tag))
    return int64(
      [batch, 5],
      Array.from({ length: batch * 5 }, () => Math.floor(r() * 64)),
    )
  const shape = tag.startsWith('mlp') ? [batch, 12] : [batch, 3, 32, 32]
  const n = shape.reduce((a, b) => a * b, 1)
  return tensor(
    'float32',
    shape,
    Float32Array.from({ length: n }, () => r() * 2 - 1),
  )
}

const TOLERANCE = 1e-4

for (const [tag, v] of Object.entries(manifest.variants)) {
  if (!v.ok) continue
  describe(tag, () => {
    const bytes = readFileSync(new URL(`${tag}.onnx`, DIR))
    const graph = importOnnx(bytes)
    const logits = graph.outputs[0].name
    it('keeps the dynamic dims symbolic', () => {
      const shape = inferShapes(graph).get(logits)?.shape
      assert.equal(shape?.[0], 'batch')
      if (/gpt/.test(tag)) assert.deepEqual(shape, ['batch', 'seq', 64])
    })
    for (const batch of [2, 3]) {
      it(`batch ${batch}: inferred types equal executed ones; logits equal onnxruntime's`, async () => {
        const x = inputFor(tag, batch, batch)
        const targets = int64(
          [batch, ...(/gpt/.test(tag) ? [5] : [])],
          new Array(batch * (/gpt/.test(tag) ? 5 : 1)).fill(1),
        )
        const feeds = { [graph.inputs[0].name]: x, [graph.inputs[1].name]: targets }
        const bindings = { batch, seq: 5 }
        const types = inferShapes(graph, bindings)
        const names = graph.nodes.flatMap((n) => n.outputs.filter((o) => o !== ''))
        const ours = runReference(graph, feeds, { fetch: names })
        for (const name of names) {
          assert.deepEqual(types.get(name)?.shape, [...ours[name].shape], name)
          assert.equal(types.get(name)?.dtype, ours[name].dtype, name)
        }
        const session = await ort.InferenceSession.create(bytes)
        try {
          const input = new ort.Tensor(x.dtype as 'float32', x.data as Float32Array, [...x.shape])
          const theirs = (await session.run({ [session.inputNames[0]]: input }))[session.outputNames[0]]
          const a = ours[logits].data as Float32Array
          const b = theirs.data as Float32Array
          assert.deepEqual([...ours[logits].shape], [...theirs.dims])
          let diff = 0
          let norm = 0
          for (let i = 0; i < b.length; i++) {
            diff += (a[i] - b[i]) ** 2
            norm += b[i] ** 2
          }
          assert.ok(Math.sqrt(diff / norm) < TOLERANCE, `relative error ${Math.sqrt(diff / norm)}`)
        } finally {
          await session.release()
        }
      })
    }
  })
}
