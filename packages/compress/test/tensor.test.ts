import assert from 'node:assert/strict'
import { test } from 'node:test'
import { deflateSync } from 'fflate'
import {
  decodeEncoded,
  decodeMessage,
  decodeSparse,
  decodeTensor,
  type Encoded,
  encodeRawTensor,
  encodeTensor,
  fp16,
  int8,
  joinParts,
  raw,
  topk,
  topkSampled,
} from '../src/index.ts'
import { normals } from './helpers.ts'

const route = { job: 'j', step: 9, mb: 2, edge: 'e' }

test('every codec crosses the wire and decodes as it would locally', () => {
  const x = normals(4096, 8)
  const encodings: Encoded[] = [
    raw.encode(x),
    fp16.encode(x),
    int8.encode(x, { block: 100 }),
    topk.encode(x, { k: 40, values: 'float16' }),
    topkSampled.encode(x, { k: 400, index: 'deflate' }),
  ]
  for (const encoded of encodings) {
    const parts = encodeTensor(route, [64, 64], encoded)
    assert.equal(parts.at(-1), encoded.payload, 'payload is sent as is')
    const { header, payload } = decodeMessage(joinParts(parts))
    assert.equal(header.codec, encoded.codec)
    const t = decodeTensor(header, payload)
    assert.equal(t.dtype, 'float32')
    assert.deepEqual(t.shape, [64, 64])
    const local = encoded.codec === 'raw' ? x : encoded.codec === 'sparse' ? decodeSparse(encoded) : undefined
    if (local !== undefined) assert.deepEqual(t.data, local)
  }
  assert.throws(() => encodeTensor(route, [3], raw.encode(x)), { name: 'SizeMismatchError' })
})

test('a dense float32 message decodes to a view of the received bytes', () => {
  const bytes = joinParts(
    encodeRawTensor(route, { dtype: 'int32', shape: [3], data: Int32Array.of(1, -2, 3) }),
  )
  const t = decodeTensor(decodeMessage(bytes).header, decodeMessage(bytes).payload)
  assert.equal(t.data.buffer, bytes.buffer)
  assert.deepEqual(t.data, Int32Array.of(1, -2, 3))
})

/** A sparse encoding over n elements with hand-written index bytes (k values of 1), maybe mis-declared. */
function sparseWith(
  n: number,
  k: number,
  varints: number[],
  deflate = false,
  varintBytes = varints.length,
): Encoded {
  const index = Uint8Array.from(varints)
  const indexBytes = deflate ? deflateSync(index) : index
  const payload = new Uint8Array(4 * k + indexBytes.length)
  new Float32Array(payload.buffer, 0, k).fill(1)
  payload.set(indexBytes, 4 * k)
  const codecMeta = {
    k,
    values: 'float32' as const,
    index: deflate ? ('deflate' as const) : ('varint' as const),
    indexBytes: indexBytes.length,
    varintBytes,
  }
  return { codec: 'sparse', codecMeta, length: n, payload }
}

test('sparse indices are checked before anything is written', () => {
  assert.deepEqual(decodeSparse(sparseWith(5, 2, [1, 3])), Float32Array.of(1, 0, 0, 1, 0))
  const bad: [string, Encoded, string][] = [
    ['not increasing', sparseWith(5, 2, [2, 0]), 'SparseIndexError'],
    ['out of range', sparseWith(5, 2, [1, 5]), 'SparseIndexError'],
    ['varint over 5 bytes', sparseWith(5, 1, [0x81, 0x80, 0x80, 0x80, 0x80, 0]), 'CodecMetaError'],
    [
      'varint over 5 bytes, within meta',
      sparseWith(5, 2, [0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 1]),
      'SparseIndexError',
    ],
    ['ends inside a varint', sparseWith(300, 2, [1, 0x81]), 'SparseIndexError'],
    ['bytes left over', sparseWith(5, 1, [1, 1]), 'SparseIndexError'],
    [
      'deflate: not a deflate stream',
      { ...sparseWith(5, 1, [1], true), payload: Uint8Array.of(0, 0, 128, 63, 0xff, 0xff, 0xff) },
      'CorruptPayloadError',
    ],
    ['deflate: inflates to more than declared', sparseWith(5, 1, [1, 1, 1], true, 1), 'CorruptPayloadError'],
    ['k over n', sparseWith(1, 2, [1, 1]), 'CodecMetaError'],
    ['payload size', { ...sparseWith(5, 1, [1]), payload: new Uint8Array(7) }, 'SizeMismatchError'],
  ]
  for (const [what, encoded, name] of bad) assert.throws(() => decodeSparse(encoded), { name }, what)
})

test('every codec decodes into a caller’s buffer, replacing what was there', () => {
  const x = normals(1000, 21)
  const out = new Float32Array(1000)
  for (const encoded of [raw.encode(x), fp16.encode(x), int8.encode(x), topk.encode(x, { k: 10 })]) {
    out.fill(7)
    assert.equal(decodeEncoded(encoded, out), out)
    assert.deepEqual(out, decodeEncoded(encoded), encoded.codec)
    assert.throws(() => decodeEncoded(encoded, new Float32Array(999)), { name: 'InvalidOptionError' })
  }
})
