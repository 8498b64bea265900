/**
 * The opset 7–12 upgrade on what PyTorch's TorchScript exporter writes at opsets 9 and 11
 * (fixtures/make_old_opset_fixtures.py): imported, upgraded, differentiated and run through
 * onnxruntime, the loss and every parameter gradient match PyTorch's float64 ones. (The opset-9
 * export's `h[:, :, 1:]` is a Slice whose `ends` attribute is INT64_MAX, read as the double 2^63:
 * it once became an empty slice.)
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import * as ort from 'onnxruntime-node'
import { buildTrainingGraph, exportOnnx, importOnnx, readSafetensors, type Tensor } from '../src/index.ts'
import { FIXTURES } from './fixtures.ts'

const read = (name: string) => new Uint8Array(readFileSync(new URL(name, FIXTURES)))
const batch = readSafetensors(read('oldops.batch.safetensors')).tensors

/** The forms opset 13 replaced, which the exports must use for this test to mean anything. */
const OLD_FORMS: Record<number, string[]> = {
  9: ['Upsample', 'Slice', 'Pad', 'Clip'],
  11: ['Split', 'Squeeze'],
}

for (const opset of [9, 11]) {
  test(`a TorchScript export at opset ${opset} trains as PyTorch does after the upgrade`, async () => {
    const ref = readSafetensors(read(`oldops.ts${opset}.ref.safetensors`))
    const ops = JSON.parse(ref.metadata.ops) as string[]
    for (const op of OLD_FORMS[opset]) assert.ok(ops.includes(op), `the export has ${op}`)
    const graph = importOnnx(read(`oldops.ts${opset}.onnx`))
    assert.equal(graph.opset, 13)
    assert.ok(!graph.nodes.some((n) => n.opType === 'Upsample'))
    const grads = new Map([...ref.tensors].filter(([k]) => !k.startsWith('__')))
    assert.deepEqual([...graph.parameters].sort(), [...grads.keys()].sort())
    const training = buildTrainingGraph(graph, 'loss')
    const session = await ort.InferenceSession.create(exportOnnx(training.graph), { logSeverityLevel: 3 })
    try {
      const feeds = Object.fromEntries(
        [...batch].map(([n, t]) => [
          n,
          new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, [...t.shape]),
        ]),
      )
      const out = await session.run(feeds)
      const loss = (out.loss.data as Float32Array)[0]
      const want = (ref.tensors.get('__loss__')!.data as Float64Array)[0]
      assert.ok(Math.abs(loss - want) <= 1e-5 * Math.max(1, Math.abs(want)), `loss ${loss}, PyTorch ${want}`)
      const scale = Math.max(
        ...[...grads.values()].flatMap((g) => Array.from(g.data as Float64Array, Math.abs)),
      )
      for (const [name, g] of grads) {
        const got = out[`grad.${name}`].data as Float32Array
        const expected = (g as Tensor).data as Float64Array
        let worst = 0
        for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected[i]))
        assert.ok(worst <= 1e-4 * scale, `grad.${name} differs by ${worst} (largest gradient ${scale})`)
      }
    } finally {
      await session.release()
    }
  })
}
