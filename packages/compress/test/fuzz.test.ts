import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BYTES_PER_ELEMENT, DTYPES, STORAGE } from '@atoll/core'
import { Packr } from 'msgpackr'
import {
  decodeMessage,
  decodeTensor,
  elementCount,
  encodeRawTensor,
  encodeTensor,
  fp16,
  int8,
  joinParts,
  topk,
  topkSampled,
  WIRE_ERROR_NAMES,
  WireError,
} from '../src/index.ts'
import { normals, rng } from './helpers.ts'

const ITERATIONS = 12_000
const limits = { maxElements: 1 << 16, maxPayloadBytes: 1 << 20, maxHeaderBytes: 4096 }
const packr = new Packr({ useRecords: false, variableMapSize: true })
const random = rng(20261129)
const int = (n: number) => Math.floor(random() * n)
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]
const route = { job: 'fuzz', step: 1, mb: 0, edge: 'e' }

/** Valid messages of every codec and dtype, the seeds the mutations start from. */
function seeds(): Uint8Array[] {
  const out: Uint8Array[] = []
  for (const dtype of DTYPES) {
    const bytes = Uint8Array.from({ length: 6 * BYTES_PER_ELEMENT[dtype] }, (_, i) =>
      dtype === 'bool' ? i & 1 : i * 29,
    )
    const data = new STORAGE[dtype](bytes.buffer, 0, 6)
    out.push(joinParts(encodeRawTensor(route, { dtype, shape: [2, 3], data })))
  }
  const x = normals(300, 1)
  const shape = [10, 30]
  out.push(joinParts(encodeTensor(route, shape, fp16.encode(x))))
  out.push(joinParts(encodeTensor(route, shape, int8.encode(x, { block: 64 }))))
  out.push(joinParts(encodeTensor(route, shape, topk.encode(x, { k: 12 }))))
  out.push(
    joinParts(encodeTensor(route, shape, topk.encode(x, { k: 30, values: 'float16', index: 'deflate' }))),
  )
  out.push(joinParts(encodeTensor(route, shape, topkSampled.encode(x, { k: 60, sampleSize: 100 }))))
  return out
}

const NASTY: unknown[] = [
  -1,
  0,
  1,
  2,
  1.5,
  2 ** 31,
  2 ** 53,
  -(2 ** 60),
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '',
  'float32',
  'sparse',
  'x'.repeat(300),
  null,
  true,
  [],
  [1, 2],
  [-1],
  [2 ** 40, 2 ** 40],
  {},
  { k: 1 },
  { block: 0 },
  10n ** 18n,
  -(2n ** 63n),
]

/** A header re-packed with one field replaced, or removed, or added. */
function forgeHeader(message: Uint8Array): Uint8Array {
  const { header, payload } = decodeMessage(message)
  const fields: Record<string, unknown> = { ...header, codecMeta: { ...header.codecMeta } }
  const keys = Object.keys(fields)
  const roll = random()
  if (roll < 0.6) fields[pick(keys)] = pick(NASTY)
  else if (roll < 0.75) delete fields[pick(keys)]
  else if (roll < 0.9)
    (fields.codecMeta as Record<string, unknown>)[
      pick(['k', 'block', 'indexBytes', 'varintBytes', 'values', 'index'])
    ] = pick(NASTY)
  else fields[pick(['extra', '__proto__', 'v2'])] = pick(NASTY)
  const packed: Uint8Array = packr.pack(fields)
  const offset = Math.ceil((8 + packed.length) / 8) * 8
  const out = new Uint8Array(offset + payload.length)
  out.set(message.subarray(0, 4))
  new DataView(out.buffer).setUint32(4, packed.length, true)
  out.set(packed, 8)
  out.set(payload, offset)
  return out
}

function mutate(message: Uint8Array): Uint8Array {
  const roll = int(8)
  const copy = message.slice()
  switch (roll) {
    case 0: // flip a few bytes anywhere
      for (let j = 0, flips = 1 + int(4); j < flips; j++) copy[int(copy.length)] ^= 1 << int(8)
      return copy
    case 1: // flip bytes in the header, where the structure is
      for (let j = 0, flips = 1 + int(3); j < flips; j++) copy[int(Math.min(copy.length, 96))] = int(256)
      return copy
    case 2:
      return copy.subarray(0, int(copy.length))
    case 3:
      return joinParts([copy, Uint8Array.from({ length: 1 + int(16) }, () => int(256))])
    case 4: // a random buffer, half the time behind a valid magic
      return Uint8Array.from({ length: int(200) }, (_, i) => (i < 4 && roll % 2 === 0 ? copy[i] : int(256)))
    case 5:
      new DataView(copy.buffer).setUint32(4, int(2) === 0 ? int(200) : random() * 2 ** 32, true)
      return copy
    case 6:
      return forgeHeader(message)
    default: // corrupt the payload only
      for (let j = 0, flips = 1 + int(8); j < flips && copy.length > 80; j++)
        copy[80 + int(copy.length - 80)] = int(256)
      return copy
  }
}

test(`fuzz: ${ITERATIONS} random and mutated messages decode or throw a typed error`, () => {
  const valid = seeds()
  const outcomes = new Map<string, number>()
  for (let it = 0; it < ITERATIONS; it++) {
    const message = mutate(pick(valid))
    let outcome = 'decoded'
    try {
      const { header, payload } = decodeMessage(message, limits)
      const t = decodeTensor(header, payload)
      assert.equal(t.data.length, elementCount(t.shape), 'element count matches the shape')
      assert.ok(t.data instanceof STORAGE[t.dtype], 'storage fits the dtype')
    } catch (err) {
      if (!(err instanceof WireError) || !WIRE_ERROR_NAMES.includes(err.name)) {
        assert.fail(`iteration ${it}: untyped failure ${(err as Error)?.name}: ${(err as Error)?.message}`)
      }
      outcome = err.name
    }
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
  }
  // The fuzzer must reach both sides: valid decodes and most kinds of rejection.
  assert.ok((outcomes.get('decoded') ?? 0) > 100, `decoded ${outcomes.get('decoded')}`)
  assert.ok(outcomes.size >= 15, `outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`)
})
