import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  decodeEncoded,
  type Encoded,
  ErrorFeedback,
  fp16,
  int8,
  keepCount,
  keepRatio,
  raw,
  topk,
  topkSampled,
} from '../src/index.ts'
import { normals } from './helpers.ts'

const n = 2000
const norm = (x: Float64Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0))

/** Runs T steps of a drifting gradient: the relative gap ‖Σ sent − Σ g‖ / ‖Σ g‖, and the invariant Σ sent + e − Σ g. */
function feedbackGap(
  compress: (x: Float32Array) => Encoded,
  steps: number,
): { gap: number; invariant: number } {
  const feedback = new ErrorFeedback()
  const drift = normals(n, 100, 0.01)
  const sumInputs = new Float64Array(n)
  const sumSent = new Float64Array(n)
  for (let t = 0; t < steps; t++) {
    const g = normals(n, t + 1)
    for (let i = 0; i < n; i++) g[i] += drift[i]
    const sent = decodeEncoded(feedback.step('w', g, compress))
    for (let i = 0; i < n; i++) {
      sumInputs[i] += g[i]
      sumSent[i] += sent[i]
    }
  }
  const residual = feedback.residual('w')!
  const gap = new Float64Array(n)
  const invariant = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    gap[i] = sumSent[i] - sumInputs[i]
    // Σ sent + e = Σ g: nothing is lost, only delayed.
    invariant[i] = sumSent[i] + residual[i] - sumInputs[i]
  }
  return { gap: norm(gap) / norm(sumInputs), invariant: norm(invariant) / norm(sumInputs) }
}

test('with error feedback the sum sent approaches the sum of the inputs', () => {
  const compressors: Record<string, (x: Float32Array) => Encoded> = {
    topk: (x) => topk.encode(x, { k: 20 }),
    topkSampledHalf: (x) => topkSampled.encode(x, { k: 100, values: 'float16', sampleSize: 512 }),
    int8: (x) => int8.encode(x),
    fp16: (x) => fp16.encode(x),
  }
  for (const [name, compress] of Object.entries(compressors)) {
    const early = feedbackGap(compress, 10)
    const late = feedbackGap(compress, 300)
    assert.ok(late.invariant < 1e-5, `${name}: Σ sent + residual = Σ inputs (${late.invariant})`)
    assert.ok(late.gap < early.gap || late.gap < 1e-6, `${name}: gap shrinks (${early.gap} → ${late.gap})`)
    assert.ok(late.gap < 0.3, `${name}: gap after 300 steps is ${late.gap}`)
  }
})

test('top-k without feedback loses what it drops; with feedback it does not', () => {
  const g = Float32Array.of(1, 0.1, 0.1, 0.1)
  const feedback = new ErrorFeedback()
  const sent = new Float32Array(4)
  for (let t = 0; t < 40; t++) {
    const s = decodeEncoded(feedback.step('w', g, (x) => topk.encode(x, { k: 1 })))
    for (let i = 0; i < 4; i++) sent[i] += s[i]
  }
  // Without feedback only index 0 would ever be sent; with it every small entry gets its turn.
  assert.ok(sent[1] > 0 && sent[2] > 0 && sent[3] > 0, `${sent}`)
})

test('residuals are per tensor name and checked for size', () => {
  const feedback = new ErrorFeedback()
  feedback.step('a', Float32Array.of(1, 2), (x) => topk.encode(x, { k: 1 }))
  feedback.step('b', Float32Array.of(5, 6, 7), (x) => topk.encode(x, { k: 1 }))
  assert.deepEqual(feedback.residual('a'), Float32Array.of(1, 0))
  assert.deepEqual(feedback.residual('b'), Float32Array.of(5, 6, 0))
  assert.throws(() => feedback.step('a', new Float32Array(3), (x) => fp16.encode(x)), {
    name: 'InvalidOptionError',
  })
  feedback.reset('a')
  assert.equal(feedback.residual('a'), undefined)
  feedback.reset()
  assert.equal(feedback.residual('b'), undefined)
})

test('keepRatio is the AdaTopK rule, clamped', () => {
  // 100 MB over 10 MB/s in 2 s: 20 MB of it may go.
  assert.equal(keepRatio({ bytes: 100e6, bandwidthBps: 10e6, targetSeconds: 2 }), 0.2)
  assert.equal(keepRatio({ bytes: 100e6, bandwidthBps: 1e9, targetSeconds: 2 }), 1)
  assert.equal(keepRatio({ bytes: 100e6, bandwidthBps: 1e3, targetSeconds: 1 }), 0.001)
  assert.equal(keepRatio({ bytes: 100e6, bandwidthBps: 1e3, targetSeconds: 1, min: 0.01, max: 0.5 }), 0.01)
  assert.equal(keepRatio({ bytes: 100e6, bandwidthBps: 1e9, targetSeconds: 1, min: 0.01, max: 0.5 }), 0.5)
  assert.equal(keepRatio({ bytes: 0, bandwidthBps: 1, targetSeconds: 1 }), 1)
  for (const bad of [
    { bytes: -1, bandwidthBps: 1, targetSeconds: 1 },
    { bytes: 1, bandwidthBps: 0, targetSeconds: 1 },
    { bytes: 1, bandwidthBps: 1, targetSeconds: Number.NaN },
    { bytes: 1, bandwidthBps: 1, targetSeconds: 1, min: 0 },
    { bytes: 1, bandwidthBps: 1, targetSeconds: 1, min: 0.5, max: 0.2 },
  ]) {
    assert.throws(() => keepRatio(bad), { name: 'InvalidOptionError' }, JSON.stringify(bad))
  }
})

test('keepCount turns a ratio into k', () => {
  assert.equal(keepCount(1000, 0.01), 10)
  assert.equal(keepCount(10, 0.001), 1)
  assert.equal(keepCount(10, 1), 10)
  assert.equal(keepCount(0, 0.5), 0)
  assert.equal(keepCount(10, 0), 0)
  assert.throws(() => keepCount(10, 2), { name: 'InvalidOptionError' })
})

test('a payload that views the accumulator is copied out of it before the next step', () => {
  const feedback = new ErrorFeedback()
  const first = feedback.step('w', Float32Array.of(1, 2), (x) => raw.encode(x))
  feedback.step('w', Float32Array.of(5, 6), (x) => raw.encode(x))
  assert.deepEqual(decodeEncoded(first), Float32Array.of(1, 2))
  assert.deepEqual(feedback.residual('w'), Float32Array.of(0, 0))
})
