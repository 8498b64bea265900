/**
 * Every rule's training graph (forward + backward, float32) exported with exportOnnx and run by
 * onnxruntime-node on the CPU: proof that the emitted nodes are valid standard ONNX that a real
 * backend accepts, and that it computes what the reference interpreter computes.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTrainingGraph } from '../src/autodiff/training.ts'
import { runReference } from '../src/reference/index.ts'
import type { Tensor } from '../src/tensor.ts'
import { CASES } from './grad-cases.ts'
import { lossGraph, randomTensor, rng } from './gradcheck.ts'
import { runOrt } from './ort-run.ts'

/** Dropout draws its own mask in each backend: only validity is checked there. */
const RANDOM = /Dropout \(training/

function relativeError(actual: Float32Array, expected: Tensor): number {
  const e = expected.data as Float32Array
  let diff = 0
  let norm = 0
  for (let i = 0; i < e.length; i++) {
    diff += (actual[i] - e[i]) ** 2
    norm += e[i] ** 2
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-30)
}

for (const [name, make] of Object.entries(CASES)) {
  test(`${name}: the training graph runs in onnxruntime-node like the reference`, async () => {
    const next = rng(name.length * 7919 + 17)
    const spec = make((shape, lo, hi) => randomTensor('float32', shape, next, lo, hi), 'float32')
    const training = buildTrainingGraph(lossGraph(spec), 'loss').graph
    const actual = await runOrt(training)
    const expected = runReference(training, {})
    assert.equal(Object.keys(actual).length, training.outputs.length)
    if (RANDOM.test(name)) return
    for (const out of training.outputs) {
      const err = relativeError(actual[out.name], expected[out.name])
      assert.ok(err < 1e-4, `${out.name}: relative error ${err}`)
    }
  })
}

for (const [name, make] of Object.entries(CASES).filter(([n]) => /^(Conv|AveragePool)/.test(n))) {
  test(`${name}: with convTranspose the training graph runs in onnxruntime-node like the Conv form`, async () => {
    const next = rng(name.length * 7919 + 17)
    const spec = make((shape, lo, hi) => randomTensor('float32', shape, next, lo, hi), 'float32')
    const graph = lossGraph(spec)
    const direct = buildTrainingGraph(graph, 'loss', { convTranspose: true }).graph
    const viaConv = buildTrainingGraph(graph, 'loss', { convTranspose: false }).graph
    const actual = await runOrt(direct)
    const expected = runReference(viaConv, {})
    for (const out of viaConv.outputs) {
      const err = relativeError(actual[out.name], expected[out.name])
      assert.ok(err < 1e-4, `${out.name}: relative error ${err}`)
    }
    const transposes = direct.nodes.filter((n) => n.opType === 'ConvTranspose').length
    // ceil_mode windows overhang the input: no valid output_padding, the Conv form stays
    if (!/ceil_mode/.test(name)) assert.ok(transposes > 0, 'ConvTranspose is used')
  })
}
