import assert from 'node:assert/strict'
import { test } from 'node:test'
import { float32, int64, readSafetensors, SafetensorsError, tensor, writeSafetensors } from '../src/index.ts'

function withHeader(header: unknown, data = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header))
  const out = new Uint8Array(8 + json.length + data.length)
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true)
  out.set(json, 8)
  out.set(data, 8 + json.length)
  return out
}

test('write then read returns every dtype, shape, value and the metadata', () => {
  const tensors = {
    w: float32([2, 3], [1, 2, 3, 4, 5, 6]),
    ids: int64([3], [-1, 0, 2 ** 40]),
    h: tensor('float16', [2], Uint16Array.of(0x3c00, 0xc000)),
    d: tensor('float64', [], Float64Array.of(Math.PI)),
    i: tensor('int32', [1], Int32Array.of(-7)),
    m: tensor('bool', [2], Uint8Array.of(1, 0)),
    b: tensor('uint8', [0], new Uint8Array(0)),
  }
  const bytes = writeSafetensors(tensors, { format: 'pt' })
  const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true))
  assert.equal(headerLen % 8, 0, 'data section aligned')
  const back = readSafetensors(bytes)
  assert.deepEqual(back.metadata, { format: 'pt' })
  for (const [name, t] of Object.entries(tensors)) {
    const r = back.tensors.get(name)!
    assert.equal(r.dtype, t.dtype)
    assert.deepEqual(r.shape, t.shape)
    assert.deepEqual(
      Array.from(r.data as ArrayLike<number | bigint>),
      Array.from(t.data as ArrayLike<number | bigint>),
    )
  }
})

test('a header that lies is a SafetensorsError, never a bad view', () => {
  const four = new Uint8Array(4)
  const bad: [string, Uint8Array][] = [
    ['short file', new Uint8Array(3)],
    [
      'header past end',
      (() => {
        const b = new Uint8Array(16)
        new DataView(b.buffer).setBigUint64(0, 1000n, true)
        return b
      })(),
    ],
    ['not json', withHeader('x').map((v, i) => (i === 8 ? 0x7b : v))],
    ['array header', withHeader([1])],
    ['unknown dtype', withHeader({ a: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } }, four)],
    ['bad shape', withHeader({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, four)],
    ['size mismatch', withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, four)],
    ['offsets outside', withHeader({ a: { dtype: 'U8', shape: [8], data_offsets: [0, 8] } }, four)],
    [
      'overlap',
      withHeader(
        {
          a: { dtype: 'U8', shape: [4], data_offsets: [0, 4] },
          b: { dtype: 'U8', shape: [4], data_offsets: [0, 4] },
        },
        four,
      ),
    ],
    ['hole', withHeader({ a: { dtype: 'U8', shape: [2], data_offsets: [2, 4] } }, four)],
    ['metadata not strings', withHeader({ __metadata__: { a: 1 } })],
  ]
  for (const [what, bytes] of bad) {
    assert.throws(
      () => readSafetensors(bytes),
      (e: Error) => e instanceof SafetensorsError && e.name === 'SafetensorsError',
      what,
    )
  }
})
