import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  avgPool2d,
  batchNorm2d,
  causalSelfAttention,
  conv2d,
  float32,
  gelu,
  globalAvgPool,
  LayerShapeError,
  ModelBuilder,
  mseLoss,
  rmsNorm,
  runReference,
  silu,
  type Tensor,
  type Value,
} from '../src/index.ts'

/** Builds `layer` over one input and runs it in the reference interpreter. */
function apply(shape: number[], values: number[], layer: (m: ModelBuilder, x: Value) => Value): Tensor {
  const m = new ModelBuilder({ seed: 1 })
  const x = m.input('x', shape)
  const y = m.output(layer(m, x))
  const out = runReference(m.build(), { x: float32(shape, values) })[y.name]
  assert.deepEqual(out.shape, y.shape, 'declared shape equals computed shape')
  return out
}

function close(a: ArrayLike<number>, b: number[], tol = 1e-6): void {
  for (const [i, v] of b.entries()) {
    assert.ok(Math.abs(a[i] - v) <= tol * Math.max(1, Math.abs(v)), `[${i}] ${a[i]} vs ${v}`)
  }
}

test('GELU, exact and tanh-approximated, and SiLU match their definitions', () => {
  const xs = [-2, -1, 0, 1, 2]
  // PyTorch: F.gelu(x) and F.gelu(x, approximate='tanh')
  close(
    apply([5], xs, (m, x) => gelu(m, x)).data as Float32Array,
    [-0.04550026389635842, -0.15865525393145707, 0, 0.8413447460685429, 1.9544997361036416],
  )
  close(
    apply([5], xs, (m, x) => gelu(m, x, 'tanh')).data as Float32Array,
    [-0.04540230591222029, -0.15880800939172324, 0, 0.8411919906082768, 1.9545976940877798],
  )
  close(
    apply([5], xs, (m, x) => silu(m, x)).data as Float32Array,
    xs.map((v) => v / (1 + Math.exp(-v))),
  )
})

test('RMSNorm divides each row by its root mean square', () => {
  const out = apply([2, 2], [3, 4, 1, -1], (m, x) => rmsNorm(m, x, 0)).data as Float32Array
  const r1 = Math.sqrt((9 + 16) / 2)
  close(out, [3 / r1, 4 / r1, 1, -1])
})

test('grouped, strided, padded Conv2d has the right shape and parameters', () => {
  const m = new ModelBuilder()
  const x = m.input('x', [2, 4, 9, 9])
  const y = conv2d(m, x, 6, 3, { stride: 2, padding: 1, groups: 2 })
  assert.deepEqual(y.shape, [2, 6, 5, 5])
  assert.deepEqual(m.graph.initializers.get('weight')?.shape, [6, 2, 3, 3])
  // PyTorch's default init bound: 1/sqrt(fan_in), fan_in = 2·3·3
  const w = m.graph.initializers.get('weight')?.data as Float32Array
  assert.ok(w.every((v) => Math.abs(v) <= 1 / Math.sqrt(18)))
  assert.throws(() => conv2d(m, x, 5, 3, { groups: 2 }), LayerShapeError)
})

test('AvgPool counts padding like PyTorch; global average pool averages H and W', () => {
  const out = apply([1, 1, 2, 2], [1, 2, 3, 4], (m, x) => avgPool2d(m, x, 2, { stride: 2, padding: 1 }))
  close(out.data as Float32Array, [1 / 4, 2 / 4, 3 / 4, 4 / 4])
  close(apply([1, 2, 1, 2], [1, 3, 5, 7], (m, x) => globalAvgPool(m, x)).data as Float32Array, [2, 6])
})

test('BatchNorm2d normalises with batch statistics in training mode and running ones in inference', () => {
  const values = [1, 2, 3, 4, 10, 20, 30, 40]
  const train = apply([2, 1, 2, 2], values, (m, x) => batchNorm2d(m, x)).data as Float32Array
  const mean = values.reduce((a, b) => a + b) / 8
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / 8 + 1e-5)
  close(
    train,
    values.map((v) => (v - mean) / sd),
    1e-5,
  )
  // fresh running statistics are mean 0, variance 1
  close(
    apply([2, 1, 2, 2], values, (m, x) => batchNorm2d(m, x, { training: false })).data as Float32Array,
    values.map((v) => v / Math.sqrt(1 + 1e-5)),
  )
})

test('causal attention: the first position sees only itself', () => {
  const m = new ModelBuilder({ seed: 2 })
  const x = m.input('x', [1, 3, 4])
  const y = m.output(causalSelfAttention(m, x, 2))
  const g = m.build()
  const base = Array.from({ length: 12 }, (_, i) => Math.sin(i))
  const changed = [...base]
  changed[8] += 1 // perturb the last position only
  const a = runReference(g, { x: float32([1, 3, 4], base) })[y.name].data as Float32Array
  const b = runReference(g, { x: float32([1, 3, 4], changed) })[y.name].data as Float32Array
  close(b.subarray(0, 8), Array.from(a.subarray(0, 8)))
  assert.ok(Math.abs(a[8] - b[8]) + Math.abs(a[11] - b[11]) > 1e-4)
  assert.throws(() =>
    causalSelfAttention(new ModelBuilder(), { name: 'x', dtype: 'float32', shape: [1, 3, 5] }, 2),
  )
})

test('MSE loss is the mean of squared differences', () => {
  const m = new ModelBuilder()
  const p = m.input('p', [2, 2])
  const t = m.input('t', [2, 2])
  const loss = mseLoss(m, p, t)
  const out = runReference(m.build(), { p: float32([2, 2], [1, 2, 3, 4]), t: float32([2, 2], [1, 0, 3, 0]) })
  close(out[loss.name].data as Float32Array, [(4 + 16) / 4])
})
