import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as ort from 'onnxruntime-node'
import { exportOnnx, type Graph, importOnnx, type Tensor } from '../src/index.ts'
import { loadFixtures, manifest } from './fixtures.ts'

const fixtures = loadFixtures()

function ortTensor(t: Tensor): ort.Tensor {
  return new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, [...t.shape])
}

async function runOrt(bytes: Uint8Array, feeds: Map<string, Tensor>, names: string[]) {
  const session = await ort.InferenceSession.create(bytes)
  try {
    const input: Record<string, ort.Tensor> = {}
    for (const n of session.inputNames) input[n] = ortTensor(feeds.get(n)!)
    const out = await session.run(input)
    return names.map((n) => out[n].data as Float32Array)
  } finally {
    await session.release()
  }
}

test('the fixtures cover both exporters and opsets 13 to 18', () => {
  const seen = new Set(fixtures.map((f) => `${f.exporter}${f.opset}`))
  for (const want of ['ts13', 'ts16', 'ts17', 'dynamo18']) assert.ok(seen.has(want), want)
  const opsets = new Set(fixtures.map((f) => f.opset))
  for (let opset = 13; opset <= 18; opset++) assert.ok(opsets.has(opset), `an export at opset ${opset}`)
  assert.ok(
    fixtures.some((f) => f.train && f.model === 'cnn'),
    'a BatchNorm model in training mode',
  )
  // the variants PyTorch could not export are documented, not silently missing
  const failed = Object.values(manifest.models).flatMap((m) => Object.values(m.variants).filter((v) => !v.ok))
  for (const v of failed) assert.ok((v.error ?? '').length > 0)
})

for (const f of fixtures) {
  test(`import ${f.tag}: parameters are exactly the tensors PyTorch differentiates`, () => {
    const g = importOnnx(f.onnx)
    // of each group of initializers holding one PyTorch parameter, exactly one stays a parameter;
    // the others were re-tied to it
    for (const group of f.tied) assert.equal(group.filter((n) => g.parameters.has(n)).length, 1, `${group}`)
    const copies = new Set(f.tied.flatMap((group) => group.filter((n) => !g.parameters.has(n))))
    assert.deepEqual([...g.parameters].sort(), [...f.grads.keys()].filter((k) => !copies.has(k)).sort())
    for (const [name, grad] of f.grads) {
      const value = g.initializers.get(name)
      if (value !== undefined) assert.deepEqual(value.shape, grad.shape, name)
    }
    assert.ok(g.inputs.some((v) => v.name === 'targets' && v.dtype === 'int64'))
    assert.equal(g.outputs.at(-1)?.name, 'loss')
    // every node after the first layer belongs to one (top-level functional ops join their input's)
    const unscoped = g.nodes.filter((n) => n.scope === '')
    assert.ok(unscoped.length <= 1, `unscoped: ${unscoped.map((n) => n.name)}`)
    for (const name of g.parameters)
      assert.ok(
        g.nodes.some((n) => n.inputs.includes(name)),
        `${name} is read`,
      )
  })

  test(`import ${f.tag}, export, run in onnxruntime: loss and logits equal PyTorch's`, async () => {
    const g: Graph = importOnnx(f.onnx)
    const feeds = new Map(f.batch)
    const [loss, logits] = await runOrt(exportOnnx(g), feeds, ['loss', 'logits'])
    assert.ok(Math.abs(loss[0] - f.loss) <= 1e-4 * Math.abs(f.loss), `loss ${loss[0]} vs PyTorch ${f.loss}`)
    const ref = f.logits.data as Float64Array
    let worst = 0
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(logits[i] - ref[i]))
    assert.ok(worst < 1e-4, `logits differ by ${worst}`)
  })
}
