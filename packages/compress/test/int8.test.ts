import assert from 'node:assert/strict'
import { test } from 'node:test'
import { int8SimdAvailable } from '@atoll/simd'
import { fp16, int8, joinParts } from '../src/index.ts'
import { EDGE_CASES, normals } from './helpers.ts'

/** Asserts every finite element is within half a quantisation step of its block's absmax. */
function assertWithinHalfStep(x: Float32Array, y: Float32Array, block: number): void {
  for (let start = 0; start < x.length; start += block) {
    let absmax = 0
    for (let i = start; i < Math.min(start + block, x.length); i++) {
      if (Number.isFinite(x[i])) absmax = Math.max(absmax, Math.abs(x[i]))
    }
    // Half a step, plus the float32 rounding of the decoded value itself.
    const bound = absmax / 254 + absmax * 2 ** -23
    for (let i = start; i < Math.min(start + block, x.length); i++) {
      if (Number.isFinite(x[i]))
        assert.ok(Math.abs(y[i] - x[i]) <= bound, `${i}: ${x[i]} → ${y[i]} (bound ${bound})`)
      else assert.ok(Number.isNaN(y[i]), `${i}: non-finite ${x[i]} decodes to NaN`)
    }
  }
}

test('int8 is within half a step per element, over blocks of mixed scale', () => {
  const x = normals(10_000, 5)
  for (let i = 0; i < x.length; i++) x[i] *= 10 ** ((i >> 8) % 7) * 1e-3
  for (const block of [256, 1, 7, 1000, 65536]) {
    const encoded = int8.encode(x, { block })
    assert.equal(encoded.payload.length, 4 * Math.ceil(x.length / block) + x.length)
    assertWithinHalfStep(x, int8.decode(encoded), block)
  }
})

test('int8 round trip of the edge cases', () => {
  for (const [name, x] of Object.entries(EDGE_CASES)) {
    const y = int8.decode(int8.encode(x))
    assert.equal(y.length, x.length, name)
    assertWithinHalfStep(x, y, 256)
  }
  // Non-finite values inside full blocks, in the first and a middle block, and in the last partial one.
  const mixed = normals(1000, 12)
  mixed[10] = Number.NaN
  mixed[300] = Number.POSITIVE_INFINITY
  mixed[301] = Number.NEGATIVE_INFINITY
  mixed[999] = Number.NaN
  assertWithinHalfStep(mixed, int8.decode(int8.encode(mixed)), 256)
  assertWithinHalfStep(mixed, int8.decode(int8.encode(mixed, { block: 100 })), 100)
  // Equal magnitudes are the block absmax: exact.
  assert.deepEqual(int8.decode(int8.encode(EDGE_CASES.equalMagnitudes)), EDGE_CASES.equalMagnitudes)
  assert.deepEqual(int8.decode(int8.encode(new Float32Array(300))), new Float32Array(300))
})

test('int8 codes are the default block absmax then one byte per value', () => {
  const encoded = int8.encode(Float32Array.of(-2, 1, 0.5))
  assert.deepEqual(encoded.codecMeta, { block: 256 })
  assert.deepEqual(new Float32Array(encoded.payload.buffer, 0, 1), Float32Array.of(2))
  assert.deepEqual(new Int8Array(encoded.payload.buffer, 4, 3), Int8Array.of(-127, 64, 32))
})

test('int8 rejects bad options and payloads', () => {
  assert.throws(() => int8.encode(new Float32Array(4), { block: 0 }), { name: 'InvalidOptionError' })
  assert.throws(() => int8.encode(new Float32Array(4), { block: 1.5 }), { name: 'InvalidOptionError' })
  const encoded = int8.encode(new Float32Array(10))
  assert.throws(() => int8.decode({ ...encoded, length: 11 }), { name: 'SizeMismatchError' })
  assert.throws(() => int8.decode({ ...encoded, codecMeta: { block: -1 } }), { name: 'CodecMetaError' })
})

test('int8 and fp16 write into a caller’s buffer when asked', () => {
  const x = Float32Array.of(1, -2, 0.5, 3)
  const out = new Uint8Array(64)
  const q = int8.encode(x, { out })
  assert.equal(q.payload.buffer, out.buffer)
  assert.deepEqual(int8.decode(q), int8.decode(int8.encode(x)))
  const h = fp16.encode(x, { out })
  assert.equal(h.payload.buffer, out.buffer)
  assert.deepEqual(fp16.decode(h), x)
  assert.throws(() => int8.encode(x, { out: new Uint8Array(7) }), { name: 'InvalidOptionError' })
  assert.throws(() => fp16.encode(x, { out: new Uint8Array(9).subarray(1) }), { name: 'InvalidOptionError' })
  const joined = joinParts([Uint8Array.of(1, 2), Uint8Array.of(3)], out)
  assert.equal(joined.buffer, out.buffer)
  assert.deepEqual([...joined], [1, 2, 3])
  assert.throws(() => joinParts([new Uint8Array(65)], out), { name: 'InvalidOptionError' })
})

const roundHalfEven = (v: number) => {
  const r = Math.round(v)
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r
}

/** The reference: per-block absmax over finite values, codes round(x · 127 / absmax) in float64. */
function referenceCodes(x: Float32Array, block: number): Int8Array {
  const codes = new Int8Array(x.length)
  for (let start = 0; start < x.length; start += block) {
    const end = Math.min(start + block, x.length)
    let absmax = 0
    for (let i = start; i < end; i++) if (Number.isFinite(x[i])) absmax = Math.max(absmax, Math.abs(x[i]))
    for (let i = start; i < end; i++) {
      codes[i] = Number.isFinite(x[i]) ? (absmax > 0 ? roundHalfEven((x[i] * 127) / absmax) : 0) : -128
    }
  }
  return codes
}

test('the SIMD kernel runs here and agrees with the reference to one code on near-ties', () => {
  assert.ok(int8SimdAvailable(), 'WebAssembly SIMD is available on Node 24')
  const x = normals(256 * 40 + 77, 31)
  for (let i = 0; i < x.length; i++) x[i] *= 10 ** ((i >> 8) % 5) * 1e-4
  x[256 * 3 + 5] = Number.NaN // a full block with NaN: left to the JS path
  x[256 * 7] = Number.NEGATIVE_INFINITY
  x.fill(0, 256 * 9, 256 * 10) // an all-zero block
  // Tiny blocks: 127 / absmax overflows float32 (normal 1e-38) or absmax is subnormal.
  for (let i = 256 * 11; i < 256 * 12; i++) x[i] = (i % 7) * 1e-39
  for (let i = 256 * 12; i < 256 * 13; i++) x[i] = ((i % 5) - 2) * 1e-44
  for (const block of [256, 16, 64, 48]) {
    const encoded = int8.encode(x, { block })
    const codes = new Int8Array(encoded.payload.buffer, 4 * Math.ceil(x.length / block), x.length)
    const reference = referenceCodes(x, block)
    let differ = 0
    for (let i = 0; i < x.length; i++) {
      assert.ok(
        Math.abs(codes[i] - reference[i]) <= 1,
        `block ${block} [${i}]: ${codes[i]} vs ${reference[i]}`,
      )
      if (codes[i] !== reference[i]) differ++
    }
    assert.ok(differ <= x.length * 1e-3, `block ${block}: ${differ} codes differ`)
    assertWithinHalfStep(x, int8.decode(encoded), block)
  }
})

test('int8 over several kernel chunks (1 MiB each) matches the reference', () => {
  const x = normals((1 << 18) * 2 + 256 * 3 + 5, 32)
  x[(1 << 18) + 700] = Number.POSITIVE_INFINITY // in the second chunk
  for (const block of [256, 65536]) {
    const encoded = int8.encode(x, { block })
    const codes = new Int8Array(encoded.payload.buffer, 4 * Math.ceil(x.length / block), x.length)
    const reference = referenceCodes(x, block)
    for (let i = 0; i < x.length; i++) {
      if (Math.abs(codes[i] - reference[i]) > 1)
        assert.fail(`block ${block} [${i}]: ${codes[i]} vs ${reference[i]}`)
    }
  }
})
