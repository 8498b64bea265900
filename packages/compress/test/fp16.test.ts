import assert from 'node:assert/strict'
import { test } from 'node:test'
import { float32ToHalfBits, fp16, halfBitsToFloat32 } from '../src/index.ts'
import { float32ToHalfBitsLoop, halfToFloatBits } from '../src/codecs/fp16.ts'
import { EDGE_CASES, fromBits, normals, rng } from './helpers.ts'

const isNaNHalf = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0

function halfOf(...values: number[]): number[] {
  const out = new Uint16Array(values.length)
  float32ToHalfBits(Float32Array.from(values), out)
  return [...out]
}

test('known conversions, including ties to even', () => {
  assert.deepEqual(
    halfOf(1, -2, 65504, 65520, 2 ** -24, 2 ** -25, 3 * 2 ** -25, -0, 0),
    [0x3c00, 0xc000, 0x7bff, 0x7c00, 0x0001, 0x0000, 0x0002, 0x8000, 0x0000],
  )
  // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: the even mantissa wins; 1 + 3·2^-11 rounds up.
  assert.deepEqual(halfOf(1 + 2 ** -11, 1 + 3 * 2 ** -11, 65519.99), [0x3c00, 0x3c02, 0x7bff])
})

test('every half survives half → float32 → half', () => {
  const halves = new Uint16Array(65536)
  for (let h = 0; h < 65536; h++) halves[h] = h
  const floats = new Float32Array(65536)
  halfBitsToFloat32(halves, floats)
  const back = new Uint16Array(65536)
  float32ToHalfBits(floats, back)
  const F16 = (globalThis as { Float16Array?: Float16ArrayConstructor }).Float16Array
  if (F16 !== undefined) {
    const platform = new F16(halves.buffer)
    for (let h = 0; h < 65536; h++)
      assert.ok(Object.is(floats[h], platform[h]), `half ${h} decodes as the platform does`)
  }
  const loop = new Uint16Array(65536)
  float32ToHalfBitsLoop(new Uint32Array(floats.buffer), loop)
  for (let h = 0; h < 65536; h++) {
    // Loading a float may quiet a signalling NaN, so NaN bits are compared as NaN-ness only.
    if (!isNaNHalf(h)) assert.equal(new Uint32Array(floats.buffer, 4 * h, 1)[0], halfToFloatBits(h))
    if (isNaNHalf(h)) assert.ok(isNaNHalf(back[h]) && isNaNHalf(loop[h]), `NaN ${h} stays NaN`)
    else assert.ok(back[h] === h && loop[h] === h, `half ${h.toString(16)}`)
  }
})

test('the portable loop matches the platform conversion on random bit patterns', () => {
  const random = rng(11)
  const bits = new Uint32Array(200_000)
  for (let i = 0; i < bits.length; i++) bits[i] = (random() * 2 ** 32) >>> 0
  // Densely cover the exponents around the half subnormal and overflow boundaries.
  for (let i = 0; i < 50_000; i++) bits[i] = (0x32800000 + i * 1237) >>> 0
  for (let i = 0; i < 10_000; i++) bits[50_000 + i] = (0x477fe000 + i * 3) >>> 0
  const platform = new Uint16Array(bits.length)
  const loop = new Uint16Array(bits.length)
  float32ToHalfBits(new Float32Array(bits.buffer), platform)
  float32ToHalfBitsLoop(bits, loop)
  for (let i = 0; i < bits.length; i++) {
    if (isNaNHalf(platform[i])) assert.ok(isNaNHalf(loop[i]))
    else if (platform[i] !== loop[i])
      assert.fail(`bits ${bits[i].toString(16)}: ${platform[i]} vs ${loop[i]}`)
  }
})

test('fp16 is within its relative precision on normal-range data', () => {
  const x = normals(10_000, 3, 100)
  const y = fp16.decode(fp16.encode(x))
  for (let i = 0; i < x.length; i++) {
    if (Math.abs(x[i]) >= 2 ** -14)
      assert.ok(Math.abs(y[i] - x[i]) <= Math.abs(x[i]) * 2 ** -11, `${x[i]} → ${y[i]}`)
    else assert.ok(Math.abs(y[i] - x[i]) <= 2 ** -25)
  }
})

test('fp16 round trip of the edge cases', () => {
  for (const [name, x] of Object.entries(EDGE_CASES)) {
    const encoded = fp16.encode(x)
    assert.equal(encoded.payload.length, 2 * x.length, name)
    const y = fp16.decode(encoded)
    assert.equal(y.length, x.length, name)
    for (let i = 0; i < x.length; i++) {
      if (Number.isNaN(x[i])) assert.ok(Number.isNaN(y[i]))
      else if (!Number.isFinite(x[i]) || x[i] === 0) assert.ok(Object.is(y[i], x[i]), `${name}[${i}]`)
    }
  }
  // A float32 subnormal is far below the half range: it becomes a signed zero.
  assert.ok(Object.is(fp16.decode(fp16.encode(fromBits(0x80000010)))[0], -0))
  // Half subnormals come back exactly.
  const tiny = Float32Array.of(2 ** -24, -(2 ** -20), 1023 * 2 ** -24)
  assert.deepEqual(fp16.decode(fp16.encode(tiny)), tiny)
})

test('fp16 decodes an unaligned payload', () => {
  const encoded = fp16.encode(Float32Array.of(1.5, -2))
  const shifted = new Uint8Array(5).subarray(1)
  shifted.set(encoded.payload)
  assert.deepEqual(fp16.decode({ ...encoded, payload: shifted }), Float32Array.of(1.5, -2))
  assert.throws(() => fp16.decode({ ...encoded, length: 3 }), { name: 'SizeMismatchError' })
})
