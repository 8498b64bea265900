import assert from 'node:assert/strict'
import { test } from 'node:test'
import { INT8_MAX_BLOCK } from '../src/constants.ts'
import { validateHeader } from '../src/index.ts'

const good = {
  v: 1,
  job: 'j',
  step: 0,
  mb: 0,
  edge: 'e',
  dtype: 'float32',
  shape: [2, 3],
  codec: 'raw',
  codecMeta: {},
  bytes: 24,
}
const sparse = { k: 2, values: 'float16', index: 'varint', indexBytes: 2, varintBytes: 2 }

test('a bad header field raises the class callers branch on, naming the field, expectation and value', () => {
  const cases: [unknown, string, string][] = [
    [[1, 2], 'HeaderDecodeError', 'header: expected an object, found a list of 2 items'],
    [{ ...good, step: 1.5 }, 'HeaderFieldError', 'header.step: expected an integer ≥ 0, found 1.5'],
    [{ ...good, job: 7 }, 'HeaderFieldError', 'header.job: expected a string, found 7'],
    [{ ...good, v: '1' }, 'HeaderFieldError', 'header.v: expected a finite number, found "1"'],
    [
      { ...good, dtype: 'complex64' },
      'UnknownDTypeError',
      'header.dtype: expected one of "float32", "float16", "float64", "int64", "int32", "bool", "uint8", found "complex64"',
    ],
    [
      { ...good, codec: 'zstd' },
      'UnknownCodecError',
      'header.codec: expected one of "raw", "fp16", "int8", "sparse", found "zstd"',
    ],
    [{ ...good, shape: [2, -3] }, 'BadShapeError', 'header.shape[1]: expected an integer ≥ 0, found -3'],
    [{ ...good, shape: 6 }, 'HeaderFieldError', 'header.shape: expected a list, found 6'],
    [
      { ...good, extra: 1 },
      'HeaderFieldError',
      'header.extra: expected one of the fields v, job, step, mb, edge, dtype, shape, codec, codecMeta, bytes, found an unknown field',
    ],
    // a key that is no identifier is still a field of the header, not an undecodable header
    [
      { ...good, 'odd key': 1 },
      'HeaderFieldError',
      'header["odd key"]: expected one of the fields v, job, step, mb, edge, dtype, shape, codec, codecMeta, bytes, found an unknown field',
    ],
    [
      { ...good, codec: 'int8', codecMeta: { block: 0 }, bytes: 30 },
      'CodecMetaError',
      `int8 codecMeta.block: expected an integer in [1, ${INT8_MAX_BLOCK}], found 0`,
    ],
    [
      { ...good, codec: 'sparse', codecMeta: { ...sparse, values: 'bfloat16' }, bytes: 6 },
      'CodecMetaError',
      'sparse codecMeta.values: expected one of "float32", "float16", found "bfloat16"',
    ],
    [
      { ...good, codecMeta: { block: 4 } },
      'CodecMetaError',
      'raw codecMeta.block: expected no fields, found an unknown field',
    ],
  ]
  for (const [header, name, message] of cases) {
    assert.throws(() => validateHeader(header), { name, message }, message)
  }
  assert.deepEqual(
    validateHeader({ ...good, codec: 'sparse', codecMeta: sparse, bytes: 6 }).codecMeta,
    sparse,
  )
})
