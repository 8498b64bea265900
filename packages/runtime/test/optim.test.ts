import assert from 'node:assert/strict'
import { test } from 'node:test'
import { float32 } from '@atoll/core'
import { adamwSimdAvailable } from '@atoll/simd'
import {
  adamw,
  clipGradNorm,
  createParameter,
  globalGradNorm,
  lrAt,
  type Parameter,
  sgd,
  zeroGrads,
} from '../src/index.ts'
import { adamwRange } from '../src/optim/adamw-kernels.ts'
import { adamwRangeSimd } from '../src/optim/adamw-simd.ts'

// A quadratic loss ½‖θ − c‖² per element, so the gradient θ − c depends on the trajectory.
const theta0 = [0.5, -1.25, 2, 0.001, -0.3, 3.5]
// no gradient starts near 0: Adam's normalisation would amplify float32-vs-float64 noise there
const centre = [0.1, 0.2, -0.7, 0.05, -0.9, 1]

function makeParam(): Parameter {
  return createParameter('w', float32([2, 3], theta0))
}

function setQuadraticGrad(p: Parameter): void {
  for (let i = 0; i < p.value.length; i++) p.grad[i] = p.value[i] - centre[i]
}

function assertClose(actual: ArrayLike<number>, expected: number[], rel = 2e-6, abs = 1e-7): void {
  for (let i = 0; i < expected.length; i++) {
    const tol = abs + rel * Math.abs(expected[i])
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol,
      `element ${i}: ${actual[i]} vs expected ${expected[i]}`,
    )
  }
}

/** torch.optim.SGD's documented algorithm, scalar float64, written independently of the implementation. */
function sgdReference(steps: number, lr: number, mu: number, tau: number, wd: number, nesterov: boolean) {
  const th = theta0.map(Math.fround) // the parameter starts from the float32 values
  const b = th.map(() => 0)
  const history: number[][] = []
  for (let t = 1; t <= steps; t++) {
    for (let i = 0; i < th.length; i++) {
      let g = th[i] - centre[i] + wd * th[i]
      if (mu !== 0) {
        b[i] = t > 1 ? mu * b[i] + (1 - tau) * g : g
        g = nesterov ? g + mu * b[i] : b[i]
      }
      th[i] -= lr * g
    }
    history.push([...th])
  }
  return history
}

/** torch.optim.AdamW's documented algorithm, scalar float64. */
function adamwReference(
  steps: number,
  lrs: number[],
  b1: number,
  b2: number,
  eps: number,
  wd: number,
  ams: boolean,
) {
  const th = theta0.map(Math.fround)
  const m = th.map(() => 0)
  const v = th.map(() => 0)
  const vmax = th.map(() => 0)
  const history: number[][] = []
  for (let t = 1; t <= steps; t++) {
    const lr = lrs[t - 1]
    for (let i = 0; i < th.length; i++) {
      const g = th[i] - centre[i]
      th[i] = th[i] - lr * wd * th[i]
      m[i] = b1 * m[i] + (1 - b1) * g
      v[i] = b2 * v[i] + (1 - b2) * g * g
      const mHat = m[i] / (1 - b1 ** t)
      vmax[i] = Math.max(vmax[i], v[i])
      const vHat = (ams ? vmax[i] : v[i]) / (1 - b2 ** t)
      th[i] = th[i] - (lr * mHat) / (Math.sqrt(vHat) + eps)
    }
    history.push([...th])
  }
  return history
}

const sgdCases = [
  { name: 'plain', momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
  { name: 'weight decay', momentum: 0, dampening: 0, weightDecay: 0.1, nesterov: false },
  { name: 'momentum', momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false },
  { name: 'momentum + dampening + decay', momentum: 0.8, dampening: 0.3, weightDecay: 0.05, nesterov: false },
  { name: 'nesterov + decay', momentum: 0.9, dampening: 0, weightDecay: 0.01, nesterov: true },
]

for (const c of sgdCases) {
  test(`SGD (${c.name}) follows torch.optim.SGD over 6 steps`, () => {
    const p = makeParam()
    const opt = sgd([p], c)
    const expected = sgdReference(6, 0.1, c.momentum, c.dampening, c.weightDecay, c.nesterov)
    for (const want of expected) {
      setQuadraticGrad(p)
      opt.step(0.1)
      assertClose(p.value, want)
    }
    assert.equal(opt.steps, 6)
  })
}

test('SGD rejects Nesterov without momentum or with dampening, and negative lr', () => {
  const p = makeParam()
  assert.throws(() => sgd([p], { nesterov: true }), { name: 'OptimizerConfigError' })
  assert.throws(() => sgd([p], { nesterov: true, momentum: 0.9, dampening: 0.1 }), {
    name: 'OptimizerConfigError',
  })
  assert.throws(() => sgd([p]).step(-1), { name: 'OptimizerConfigError' })
})

for (const amsgrad of [false, true]) {
  test(`AdamW (amsgrad=${amsgrad}) follows torch.optim.AdamW over 8 steps with a varying lr`, () => {
    const p = makeParam()
    const opt = adamw([p], { betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.1, amsgrad })
    const lrs = [0.05, 0.1, 0.1, 0.08, 0.05, 0.02, 0.2, 0.01]
    const expected = adamwReference(8, lrs, 0.8, 0.95, 1e-6, 0.1, amsgrad)
    for (let t = 0; t < lrs.length; t++) {
      setQuadraticGrad(p)
      opt.step(lrs[t])
      assertClose(p.value, expected[t], 1e-5, 1e-6)
    }
  })
}

test('AdamW defaults are PyTorch defaults (betas 0.9/0.999, eps 1e-8, weight decay 0.01)', () => {
  const p = makeParam()
  const opt = adamw([p])
  const expected = adamwReference(3, [1e-3, 1e-3, 1e-3], 0.9, 0.999, 1e-8, 0.01, false)
  for (const want of expected) {
    setQuadraticGrad(p)
    opt.step(1e-3)
    assertClose(p.value, want)
  }
  assert.deepEqual(opt.exportState().options, {
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 0.01,
    amsgrad: false,
  })
})

test('AdamW amsgrad differs from plain once the second moment falls', () => {
  const run = (amsgrad: boolean) => {
    const p = makeParam()
    const opt = adamw([p], { amsgrad, weightDecay: 0 })
    for (let t = 0; t < 6; t++) {
      setQuadraticGrad(p)
      if (t > 2) p.grad.fill(1e-3) // gradients shrink: v decays below its maximum
      opt.step(0.1)
    }
    return Array.from(p.value)
  }
  assert.notDeepEqual(run(true), run(false))
})

test('AdamW skips decay for parameters the filter excludes', () => {
  const w = makeParam()
  const b = createParameter('b', float32([6], theta0))
  const opt = adamw([w, b], { weightDecay: 0.5, decays: (name) => name !== 'b' })
  zeroGrads([w, b])
  opt.step(0.1) // zero gradients: only decay moves the weights
  assertClose(
    w.value,
    theta0.map((x) => x * 0.95),
  )
  assertClose(b.value, theta0)
})

test('optimizer state round-trips: a restored optimizer continues identically', () => {
  for (const make of [
    (p: Parameter) => sgd([p], { momentum: 0.9, nesterov: true }),
    (p: Parameter) => adamw([p]),
  ]) {
    const a = makeParam()
    const optA = make(a)
    for (let t = 0; t < 3; t++) {
      setQuadraticGrad(a)
      optA.step(0.05)
    }
    const saved = optA.exportState()
    const b = createParameter('w', float32([2, 3], a.value))
    const optB = make(b)
    const copy = new Map([...saved.tensors].map(([k, t]) => [k, { ...t, data: t.data.slice() }]))
    optB.importState({ ...saved, tensors: copy })
    for (let t = 0; t < 3; t++) {
      setQuadraticGrad(a)
      setQuadraticGrad(b)
      optA.step(0.05)
      optB.step(0.05)
    }
    assert.deepEqual(Array.from(b.value), Array.from(a.value))
    assert.equal(optB.steps, 6)
  }
})

test('importState refuses another kind, other options, or a wrongly sized buffer', () => {
  const p = makeParam()
  const state = adamw([p]).exportState()
  assert.throws(() => sgd([p], { momentum: 0.9 }).importState(state), { name: 'OptimizerStateError' })
  assert.throws(() => adamw([p], { eps: 1e-6 }).importState(state), { name: 'OptimizerStateError' })
  const bad = new Map(state.tensors)
  bad.set('w.exp_avg', float32([2], [0, 0]))
  assert.throws(() => adamw([p]).importState({ ...state, tensors: bad }), { name: 'OptimizerStateError' })
})

test('clipGradNorm scales by max/(norm + 1e-6) only when the norm exceeds the max', () => {
  const a = createParameter('a', float32([2], [0, 0]))
  const b = createParameter('b', float32([1], [0]))
  a.grad.set([3, 4])
  b.grad.set([12]) // total 2-norm 13
  const total = clipGradNorm([a, b], 1)
  assert.equal(total, 13)
  const coef = 1 / (13 + 1e-6)
  assertClose(a.grad, [3 * coef, 4 * coef])
  assertClose(b.grad, [12 * coef])
  assert.ok(Math.abs(globalGradNorm([a, b]) - 1) < 1e-6)
  assert.equal(clipGradNorm([a, b], 5), globalGradNorm([a, b]))
  assertClose(b.grad, [12 * coef]) // below the max: untouched
})

test('clipGradNorm with the infinity norm and non-finite gradients', () => {
  const a = createParameter('a', float32([3], [0, 0, 0]))
  a.grad.set([1, -6, 2])
  assert.equal(clipGradNorm([a], 3, { normType: Infinity }), 6)
  assertClose(a.grad, [3 / (6 + 1e-6), -18 / (6 + 1e-6), 6 / (6 + 1e-6)])
  a.grad.set([1, Number.NaN, 2])
  assert.throws(() => clipGradNorm([a], 1, { errorIfNonfinite: true }), { name: 'NonFiniteGradientError' })
  assert.ok(Number.isNaN(clipGradNorm([a], 1)))
})

test('lrAt: constant, and cosine with linear warm-up (Hugging Face formula) with a floor', () => {
  assert.equal(lrAt({ kind: 'constant', lr: 0.3 }, 17), 0.3)
  const s = { kind: 'cosine' as const, lr: 1, warmupSteps: 4, totalSteps: 14, minLr: 0.1 }
  assert.equal(lrAt(s, 0), 0)
  assert.equal(lrAt(s, 2), 0.5)
  assert.equal(lrAt(s, 4), 1)
  const mid = 0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * 0.5))
  assert.ok(Math.abs(lrAt(s, 9) - mid) < 1e-12)
  assert.ok(Math.abs(lrAt(s, 14) - 0.1) < 1e-12)
  assert.ok(Math.abs(lrAt(s, 40) - 0.1) < 1e-12) // stays at the floor
  const hf = { kind: 'cosine' as const, lr: 2, warmupSteps: 0, totalSteps: 10 }
  assert.ok(Math.abs(lrAt(hf, 3) - 2 * 0.5 * (1 + Math.cos((Math.PI * 3) / 10))) < 1e-12)
})

test('AdamW on worker threads is bit-identical to one thread, and needs shared parameters', () => {
  const sizes = [1000, 7, 3001, 64]
  const make = (shared: boolean) =>
    sizes.map((n, k) =>
      createParameter(
        `p${k}`,
        float32(
          [n],
          Array.from({ length: n }, (_, i) => Math.sin(i + k)),
        ),
        { shared },
      ),
    )
  for (const amsgrad of [false, true]) {
    const one = make(false)
    const many = make(true)
    const opts = { weightDecay: 0.1, amsgrad, decays: (name: string) => name !== 'p1' }
    const single = adamw(one, opts)
    const parallel = adamw(many, { ...opts, threads: 3 })
    for (let t = 0; t < 4; t++) {
      for (const ps of [one, many]) {
        for (const [k, p] of ps.entries()) p.grad.set(p.value.map((v, i) => Math.cos(v * (t + 1) + i + k)))
      }
      single.step(0.01)
      parallel.step(0.01)
    }
    parallel.close()
    for (let k = 0; k < sizes.length; k++)
      assert.deepEqual(Array.from(many[k].value), Array.from(one[k].value))
  }
  assert.throws(() => adamw(make(false), { threads: 2 }), { name: 'OptimizerConfigError' })
})

test('the SIMD AdamW kernel follows the JS loop on partial vectors, chunk edges and sub-ranges', () => {
  assert.ok(adamwSimdAvailable(), 'Node 22+ has WebAssembly SIMD')
  const n = (1 << 14) * 2 + 7 // two chunks and a partial vector
  const make = () => {
    const wave = (i: number, f: number) => Math.sin(i * f) * 0.5
    return {
      theta: Float32Array.from({ length: n }, (_, i) => wave(i, 12.9898)),
      grad: Float32Array.from({ length: n }, (_, i) => wave(i, 78.233) * 0.01),
      m: Float32Array.from({ length: n }, (_, i) => wave(i, 3.7) * 0.001),
      v: Float32Array.from({ length: n }, (_, i) => 1e-6 + wave(i, 5.1) ** 2 * 1e-4),
    }
  }
  const c = {
    keep: 0.9999,
    beta1: 0.9,
    beta2: 0.999,
    stepSize: 1e-3 / 0.1,
    invBc2Sqrt: 1 / Math.sqrt(0.001),
    eps: 1e-8,
  }
  const [js, wasm] = [make(), make()]
  const [from, to] = [3, n - 2]
  adamwRange(js, from, to, c)
  adamwRangeSimd(wasm, from, to, c)
  const untouched = make()
  for (const key of ['theta', 'm', 'v'] as const) {
    const [a, b] = [js[key], wasm[key]]
    for (const i of [0, 1, 2, n - 2, n - 1])
      assert.equal(b[i], untouched[key][i], `${key}[${i}] is outside the range`)
    for (let i = from; i < to; i++) {
      // float32 rounding of each operation (SIMD, PyTorch's order) against one rounding at the end
      // (JS), measured against the magnitudes that go into the value
      const scale =
        key === 'theta'
          ? Math.abs(untouched.theta[i]) + c.stepSize
          : key === 'm'
            ? Math.abs(untouched.m[i]) + Math.abs(untouched.grad[i])
            : Math.abs(a[i])
      assert.ok(Math.abs(a[i] - b[i]) <= 2e-6 * scale, `${key}[${i}]: ${b[i]} vs ${a[i]}`)
    }
  }
})
