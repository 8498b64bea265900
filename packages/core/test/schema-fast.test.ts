import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as z from 'zod/mini'
import { AtollError, checkWith } from '../src/index.ts'
import { acceptorOf } from '../src/schema-fast.ts'

class BadLinkError extends AtollError {}

const link = z.object({
  a: z.string().check(z.minLength(1), z.maxLength(8)),
  kind: z.enum(['lan', 'wan']),
  version: z.literal(1),
  bandwidthBps: z.number().check(z.positive()),
  rttSeconds: z.number().check(z.gte(0), z.lt(10)),
  hops: z.optional(z.int().check(z.gte(1))),
  up: z.optional(z.boolean()),
  tags: z.optional(z.array(z.string().check(z.regex(/^[a-z]+$/))).check(z.maxLength(2))),
  exact: z.optional(z.array(z.number()).check(z.length(2))),
  meta: z.optional(z.strictObject({ note: z.string() })),
  payload: z.optional(z.strictObject({ data: z.unknown() })),
})
const good = { a: 'x', kind: 'lan', version: 1, bandwidthBps: 1, rttSeconds: 0 }

test('the acceptor agrees with zod on every value, valid or not', () => {
  const accept = acceptorOf(z.array(link))
  assert.ok(accept)
  const variants: unknown[] = [
    good,
    { ...good, extra: 'kept by a plain object' },
    { ...good, a: '' },
    { ...good, a: 'x'.repeat(9) },
    { ...good, a: 5 },
    { ...good, kind: 'sat' },
    { ...good, version: 2 },
    { ...good, version: '1' },
    { ...good, bandwidthBps: 0 },
    { ...good, bandwidthBps: Number.POSITIVE_INFINITY },
    { ...good, bandwidthBps: Number.NaN },
    { ...good, rttSeconds: 10 },
    { ...good, rttSeconds: 9.99 },
    { ...good, rttSeconds: -0.1 },
    { ...good, hops: 1.5 },
    { ...good, hops: 2 ** 60 },
    { ...good, hops: 3 },
    { ...good, hops: undefined },
    { ...good, up: 1 },
    { ...good, tags: ['ab'] },
    { ...good, tags: ['Ab'] },
    { ...good, tags: ['a', 'b', 'c'] },
    { ...good, exact: [1] },
    { ...good, exact: [1, 2] },
    { ...good, meta: { note: 'n' } },
    { ...good, meta: { note: 'n', more: 1 } },
    { ...good, meta: [] },
    { ...good, payload: { data: [1, 2] } },
    { ...good, payload: { data: null } },
    { ...good, payload: {} },
    { a: 'x' },
    null,
    [],
    'link',
  ]
  for (const value of variants) {
    assert.equal(accept([value]), link.safeParse(value).success, JSON.stringify(value))
  }
  // the one disagreement allowed is on the safe side: refused here, accepted by zod on the fallback
  const undefinedData = { ...good, payload: { data: undefined } }
  assert.equal(accept([undefinedData]), false)
  assert.equal(link.safeParse(undefinedData).success, true)
  assert.equal(accept(good), false, 'a single object is not a list')
})

test('schemas the acceptor does not cover get none, so zod parses them', () => {
  assert.equal(acceptorOf(z.union([z.string(), z.number()])), undefined)
  assert.equal(acceptorOf(z.number().check(z.refine((v) => v % 2 === 0))), undefined)
  assert.equal(acceptorOf(z.object({ inputs: z._default(z.array(z.string()), []) })), undefined)
  assert.equal(acceptorOf(z.looseObject({ a: z.string() })), undefined)
  assert.equal(acceptorOf(z.uint32()), undefined)
  assert.equal(acceptorOf(z.string().check(z.regex(/a/g))), undefined)
})

test('checkWith accepts in place and names the problem as parseWith does', () => {
  const links = [good, good, { ...good, rttSeconds: 12 }]
  checkWith(z.array(link), [good, good], BadLinkError, { root: 'links' })
  assert.throws(() => checkWith(z.array(link), links, BadLinkError, { root: 'links' }), {
    name: 'BadLinkError',
    message: 'links[2].rttSeconds: expected a finite number in [0, 10), found 12',
  })
})
