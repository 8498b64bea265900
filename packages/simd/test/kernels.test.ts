import assert from 'node:assert/strict'
import { test } from 'node:test'
import { adamwSimd, adamwSimdAvailable, int8SimdAvailable, quantiseFullBlocks } from '../src/index.ts'

// compress's and runtime's tests hold each kernel against its JS loop over many shapes and values;
// these check the kernels alone against the formulas, on numbers worked out by hand.

test('the int8 kernel codes full blocks of 16: absmax, then x · 127 / absmax rounded half to even', () => {
  assert.ok(int8SimdAvailable())
  const x = Float32Array.from({ length: 40 }, (_, i) => (i < 16 ? i - 8 : (i - 16) / 4))
  const scales = new Float32Array(2)
  const codes = new Int8Array(40)
  assert.equal(quantiseFullBlocks(x, 16, scales, codes), 2, 'the 8 left over are the caller’s')
  assert.deepEqual(Array.from(scales), [8, 3.75])
  assert.deepEqual(
    Array.from(codes.subarray(0, 16)),
    [-127, -111, -95, -79, -64, -48, -32, -16, 0, 16, 32, 48, 64, 79, 95, 111],
  )
  assert.equal(codes[31], 127)
  assert.deepEqual(Array.from(codes.subarray(32)), new Array(8).fill(0))
  assert.equal(quantiseFullBlocks(x, 8, scales, codes), 0, 'blocks of 8 are not its to code')
})

test('the AdamW kernel takes one step on a partial vector and leaves what is outside the range', () => {
  assert.ok(adamwSimdAvailable())
  const s = {
    theta: Float32Array.of(1, -2, 0.5, 3, 9, 9),
    grad: Float32Array.of(0.1, -0.2, 0.3, 0, 9, 9),
    m: new Float32Array(6),
    v: new Float32Array(6),
  }
  const c = {
    keep: 0.99,
    beta1: 0.9,
    beta2: 0.999,
    stepSize: 0.01 / 0.1,
    invBc2Sqrt: 1 / Math.sqrt(0.001),
    eps: 1e-8,
  }
  assert.ok(adamwSimd(s, 0, 3, c)) // three lanes of one vector
  for (const [i, g] of [0.1, -0.2, 0.3].entries()) {
    const m = 0.1 * g
    const v = 0.001 * g * g
    const theta = [1, -2, 0.5][i] * 0.99 - (c.stepSize * m) / (Math.sqrt(v) * c.invBc2Sqrt + c.eps)
    assert.ok(Math.abs(s.m[i] - m) <= 1e-7 * Math.abs(m), `m[${i}]`)
    assert.ok(Math.abs(s.v[i] - v) <= 1e-7 * Math.abs(v), `v[${i}]`)
    assert.ok(Math.abs(s.theta[i] - theta) <= 1e-6, `theta[${i}]: ${s.theta[i]} vs ${theta}`)
  }
  assert.deepEqual([s.theta[3], s.m[3], s.v[3], s.theta[4]], [3, 0, 0, 9])
})
