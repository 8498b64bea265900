import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  readVarint,
  readVarint64,
  VarintError,
  writeSignedVarint,
  writeVarint,
  writeVarint64,
} from '../src/varint.ts'

const bytesOf = (write: (out: Uint8Array, pos: number) => number) => {
  const out = new Uint8Array(16)
  return Array.from(out.subarray(0, write(out, 0)))
}

test('varints have the bytes of the LEB128 and protobuf specs', () => {
  const unsigned: [number, number[]][] = [
    [0, [0]],
    [127, [0x7f]],
    [300, [0xac, 0x02]], // protobuf's example
    [624485, [0xe5, 0x8e, 0x26]], // DWARF's example
    [2 ** 32, [0x80, 0x80, 0x80, 0x80, 0x10]],
  ]
  for (const [value, bytes] of unsigned)
    assert.deepEqual(
      bytesOf((o, p) => writeVarint(o, p, value)),
      bytes,
    )
  const signed: [number, number[]][] = [
    [-123456, [0xc0, 0xbb, 0x78]], // DWARF's example
    [-1, [0x7f]],
    [63, [0x3f]],
    [64, [0xc0, 0x00]], // one byte would read back as a negative: bit 6 is the sign
    [-64, [0x40]],
    [-65, [0xbf, 0x7f]],
    [2 ** 31 - 1, [0xff, 0xff, 0xff, 0xff, 0x07]], // the int32 extremes take five bytes
    [-(2 ** 31), [0x80, 0x80, 0x80, 0x80, 0x78]],
  ]
  for (const [value, bytes] of signed)
    assert.deepEqual(
      bytesOf((o, p) => writeSignedVarint(o, p, value)),
      bytes,
    )
  assert.deepEqual(
    bytesOf((o, p) => writeVarint64(o, p, 150n)),
    [0x96, 0x01],
  )
  assert.deepEqual(
    bytesOf((o, p) => writeVarint64(o, p, -1n)),
    [...new Array(9).fill(0xff), 0x01],
  )
})

test('every varint reads back what was written, and the cursor lands after it', () => {
  const values = [0, 1, 127, 128, 255, 16383, 16384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 35 - 1]
  const out = new Uint8Array(64)
  for (const value of values) {
    const end = writeVarint(out, 3, value)
    const at = { pos: 3 }
    assert.equal(readVarint(out, at, end, 7), value)
    assert.equal(at.pos, end)
  }
  for (const value of [0n, 1n, 2n ** 53n + 1n, 2n ** 64n - 1n]) {
    const end = writeVarint64(out, 0, value)
    const at = { pos: 0 }
    assert.equal(readVarint64(out, at), value)
    assert.equal(at.pos, end)
  }
  const at = { pos: 0 }
  readVarint64(out, at, writeVarint64(out, 0, -5n))
  assert.equal(BigInt.asIntN(64, readVarint64(out, { pos: 0 })), -5n) // two's complement, as protobuf
})

test('a varint cut short or too long is a VarintError naming where it starts; the cursor stays', () => {
  const bytes = Uint8Array.of(7, 0x81, 0x80, 0x80, 0x80, 0x80, 0x01)
  const at = { pos: 1 }
  assert.throws(() => readVarint(bytes, at), {
    name: 'VarintError',
    message: 'the varint at byte 1 is longer than 5 bytes',
  })
  assert.equal(at.pos, 1)
  assert.throws(() => readVarint(bytes, at, 4), {
    name: 'VarintError',
    message: 'the bytes end inside the varint that starts at byte 1',
  })
  assert.equal(readVarint(bytes, at, bytes.length, 6), 1 + 2 ** 35)
  assert.throws(() => readVarint64(Uint8Array.from(new Array(11).fill(0x80)), { pos: 0 }), VarintError)
  // five bytes that all continue, and nothing after: too long, whether or not more would come
  assert.throws(() => readVarint(Uint8Array.from(new Array(5).fill(0x80)), { pos: 0 }), /longer than 5 bytes/)
})
