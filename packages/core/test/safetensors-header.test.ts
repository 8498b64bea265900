import assert from 'node:assert/strict'
import { test } from 'node:test'
import { readSafetensors } from '../src/index.ts'

function file(header: unknown, dataBytes = 4): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header))
  const out = new Uint8Array(8 + json.length + dataBytes)
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true)
  out.set(json, 8)
  return out
}

test('a malformed header names the tensor and field, what was expected and what was found', () => {
  const ok = { dtype: 'F32', shape: [1], data_offsets: [0, 4] }
  const cases: [unknown, string][] = [
    [[1], 'header: expected an object, found a list of 1 item'],
    [
      { 'h.0.w': { ...ok, dtype: 'BF16' } },
      'header["h.0.w"].dtype: expected one of "F32", "F16", "F64", "I64", "I32", "BOOL", "U8", found "BF16"',
    ],
    [{ w: { ...ok, shape: [1.5] } }, 'header.w.shape[0]: expected an integer ≥ 0, found 1.5'],
    [
      { w: { ...ok, data_offsets: [0] } },
      'header.w.data_offsets: expected a list of 2 items, found a list of 1 item',
    ],
    [{ w: 'F32' }, 'header.w: expected an object, found "F32"'],
    [{ __metadata__: { format: 1 }, w: ok }, 'header.__metadata__.format: expected a string, found 1'],
  ]
  for (const [header, message] of cases) {
    assert.throws(() => readSafetensors(file(header)), {
      name: 'SafetensorsError',
      message: `invalid safetensors: ${message}`,
    })
  }
  assert.deepEqual(readSafetensors(file({ __metadata__: { format: 'pt' }, w: ok })).metadata, {
    format: 'pt',
  })
})
