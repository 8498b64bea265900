import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BYTES_PER_ELEMENT, type DType, DTYPES, tensor, tensorBytes } from '@atoll/core'
import { Packr } from 'msgpackr'
import {
  decodeMessage,
  encodeMessage,
  type HeaderFields,
  joinParts,
  readHeader,
  readPrefix,
  viewRaw,
  WIRE_PREFIX_BYTES,
} from '../src/index.ts'

const packr = new Packr({ useRecords: false, variableMapSize: true })
const route = { job: 'job-1', step: 3, mb: 1, edge: 'h.3->h.4' }
const dense = (shape: number[], dtype: DType = 'float32'): HeaderFields => ({
  ...route,
  dtype,
  shape,
  codec: 'raw',
  codecMeta: {},
})

/** A message built by hand from a header object, bypassing encodeMessage's validation. */
function forge(header: unknown, payload = new Uint8Array(0)): Uint8Array {
  const packed: Uint8Array = packr.pack(header)
  const offset = Math.ceil((8 + packed.length) / 8) * 8
  const out = new Uint8Array(offset + payload.length)
  out.set([0x41, 0x54, 0x4c, 0x54])
  new DataView(out.buffer).setUint32(4, packed.length, true)
  out.set(packed, 8)
  out.set(payload, offset)
  return out
}

function sample(dtype: DType, n: number): Uint8Array {
  const bytes = new Uint8Array(n * BYTES_PER_ELEMENT[dtype])
  for (let i = 0; i < bytes.length; i++) bytes[i] = dtype === 'bool' ? i & 1 : (i * 37 + 11) & 255
  return bytes
}

test('raw round trip of every dtype, viewed without a copy', () => {
  for (const dtype of DTYPES) {
    const payload = sample(dtype, 6)
    const parts = encodeMessage(dense([2, 3], dtype), payload)
    assert.equal(parts[1], payload, 'payload part is the caller’s bytes, not a copy')
    const bytes = joinParts(parts)
    const { header, payload: view } = decodeMessage(bytes)
    assert.deepEqual(header, { ...dense([2, 3], dtype), v: 1, bytes: payload.length })
    assert.equal(view.buffer, bytes.buffer)
    const data = viewRaw(dtype, 6, view)
    assert.equal(data.buffer, bytes.buffer, `${dtype} is a view`)
    assert.deepEqual(tensorBytes(tensor(dtype, [2, 3], data)), payload)
  }
})

test('payload offset is 8-aligned and padding is zero', () => {
  for (const job of ['', 'a', 'ab', 'abcdefgh', 'x'.repeat(200)]) {
    const [head] = encodeMessage({ ...dense([1]), job }, new Uint8Array(4))
    assert.equal(head.length % 8, 0)
    const { payloadOffset, headerBytes } = readPrefix(head)
    assert.equal(payloadOffset, head.length)
    assert.ok(head.subarray(WIRE_PREFIX_BYTES + headerBytes).every((b) => b === 0))
  }
})

test('an unaligned payload is copied into aligned memory', () => {
  const payload = new Float64Array([1.5, -2.25, 3])
  const bytes = joinParts(encodeMessage(dense([3], 'float64'), new Uint8Array(payload.buffer)))
  const shifted = new Uint8Array(bytes.length + 1).subarray(1)
  shifted.set(bytes)
  const { payload: view } = decodeMessage(shifted)
  assert.deepEqual(viewRaw('float64', 3, view), payload)
})

test('readHeader needs only the bytes up to the payload', () => {
  const bytes = joinParts(encodeMessage(dense([1000]), new Uint8Array(4000)))
  const { payloadOffset } = readPrefix(bytes.subarray(0, 8))
  const info = readHeader(bytes.subarray(0, payloadOffset))
  assert.equal(info.messageBytes, bytes.length)
  assert.equal(info.header.bytes, 4000)
  assert.throws(() => readHeader(bytes.subarray(0, payloadOffset - 1)), { name: 'TruncatedMessageError' })
  assert.throws(() => readPrefix(bytes.subarray(0, 7)), { name: 'TruncatedMessageError' })
})

test('scalars and empty tensors', () => {
  const scalar = decodeMessage(joinParts(encodeMessage(dense([]), new Uint8Array(4))))
  assert.deepEqual(scalar.header.shape, [])
  const empty = decodeMessage(joinParts(encodeMessage(dense([0, 5]), new Uint8Array(0))))
  assert.equal(empty.payload.length, 0)
})

const good = { v: 1, ...dense([2]), bytes: 8 }
const cases: [string, unknown, string, Partial<Record<string, number>>?][] = [
  ['wrong version', { ...good, v: 2 }, 'UnsupportedVersionError'],
  ['version missing', { ...good, v: undefined }, 'HeaderFieldError'],
  ['unknown dtype', { ...good, dtype: 'complex64' }, 'UnknownDTypeError'],
  ['unknown codec', { ...good, codec: 'zstd' }, 'UnknownCodecError'],
  ['bytes differ from shape', { ...good, bytes: 12 }, 'SizeMismatchError'],
  ['negative dimension', { ...good, shape: [-2] }, 'BadShapeError'],
  ['fractional dimension', { ...good, shape: [2.5] }, 'BadShapeError'],
  ['rank over limit', { ...good, shape: new Array(17).fill(1), bytes: 4 }, 'LimitExceededError'],
  ['elements over limit', { ...good, shape: [1 << 20, 1 << 20], bytes: 0 }, 'LimitExceededError'],
  [
    'payload over limit',
    { ...good, shape: [1 << 20], bytes: 4 << 20 },
    'LimitExceededError',
    { maxPayloadBytes: 1 << 20 },
  ],
  ['job too long', { ...good, job: 'j'.repeat(300) }, 'LimitExceededError'],
  ['step not an integer', { ...good, step: 1.5 }, 'HeaderFieldError'],
  ['mb negative', { ...good, mb: -1 }, 'HeaderFieldError'],
  ['edge not a string', { ...good, edge: 4 }, 'HeaderFieldError'],
  ['unknown field', { ...good, extra: 1 }, 'HeaderFieldError'],
  ['header not a map', [1, 2, 3], 'HeaderDecodeError'],
  ['codecMeta not a map', { ...good, codecMeta: 5 }, 'CodecMetaError'],
  ['raw with codecMeta fields', { ...good, codecMeta: { block: 4 } }, 'CodecMetaError'],
  ['fp16 of an int dtype', { ...good, dtype: 'int32', codec: 'fp16', bytes: 4 }, 'CodecMetaError'],
  ['int8 block zero', { ...good, codec: 'int8', codecMeta: { block: 0 }, bytes: 6 }, 'CodecMetaError'],
]

for (const [what, header, name, limits] of cases) {
  test(`rejects a header: ${what}`, () => {
    const message = forge(header, new Uint8Array(8))
    assert.throws(() => decodeMessage(message, limits), { name })
  })
}

test('rejects framing faults', () => {
  const bytes = joinParts(encodeMessage(dense([2]), new Uint8Array(8)))
  const badMagic = bytes.slice()
  badMagic[0] = 0x42
  assert.throws(() => decodeMessage(badMagic), { name: 'BadMagicError' })
  assert.throws(() => decodeMessage(bytes.subarray(0, bytes.length - 1)), { name: 'TruncatedMessageError' })
  assert.throws(() => decodeMessage(joinParts([bytes, new Uint8Array(1)])), { name: 'TrailingBytesError' })
  const huge = bytes.slice()
  new DataView(huge.buffer).setUint32(4, 1 << 30, true)
  assert.throws(() => decodeMessage(huge), { name: 'HeaderTooLargeError' })
  const { headerBytes, payloadOffset } = readPrefix(bytes)
  if (8 + headerBytes < payloadOffset) {
    const padded = bytes.slice()
    padded[payloadOffset - 1] = 1
    assert.throws(() => decodeMessage(padded), { name: 'BadPaddingError' })
  }
  const garbage = bytes.slice()
  garbage[8] = 0xc1 // never used in msgpack
  assert.throws(() => decodeMessage(garbage), { name: 'HeaderDecodeError' })
})

test('a raw bool payload must hold 0 or 1', () => {
  const { header, payload } = decodeMessage(
    joinParts(encodeMessage(dense([3], 'bool'), Uint8Array.of(0, 1, 2))),
  )
  assert.throws(() => viewRaw(header.dtype, 3, payload), { name: 'BadBoolError' })
})

test('encodeMessage refuses what a receiver would reject', () => {
  assert.throws(() => encodeMessage(dense([3]), new Uint8Array(8)), { name: 'SizeMismatchError' })
  assert.throws(() => encodeMessage({ ...dense([2]), step: -1 }, new Uint8Array(8)), {
    name: 'HeaderFieldError',
  })
})
