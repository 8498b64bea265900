import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as z from 'zod/mini'
import { AtollError, type FieldProblem, parseJson, parseWith } from '../src/index.ts'

class BadInputError extends AtollError {}

const peer = z.strictObject({
  id: z.string().check(z.regex(/^[a-z]+$/)),
  flops: z.number().check(z.positive()),
  cores: z.optional(z.int().check(z.gte(1), z.lte(256))),
  device: z.optional(z.enum(['cpu', 'cuda'])),
  tags: z.optional(z.array(z.string()).check(z.minLength(1), z.maxLength(2))),
  name: z.optional(z.union([z.string(), z.strictObject({ first: z.string() })])),
  even: z.optional(z.number().check(z.refine((v) => v % 2 === 0, { error: 'an even number' }))),
  link: z.optional(
    z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('lan') }),
      z.object({ kind: z.literal('wan'), rttMs: z.number().check(z.nonnegative()) }),
    ]),
  ),
  note: z.optional(z.string().check(z.maxLength(1))),
})
const good = { id: 'a', flops: 1 }

function messageOf(value: unknown, root = 'peers'): string {
  try {
    parseWith(z.array(peer), [good, value], BadInputError, { root })
  } catch (err) {
    assert.ok(err instanceof BadInputError)
    assert.equal(err.name, 'BadInputError')
    return err.message
  }
  assert.fail('parsed a bad value')
}

test('a valid value comes back typed and stripped of nothing it declares', () => {
  const parsed = parseWith(peer, { ...good, cores: 4 }, BadInputError)
  assert.deepEqual(parsed, { id: 'a', flops: 1, cores: 4 })
})

test('each kind of problem names the path, what was expected and what was found, in words', () => {
  const cases: [unknown, string][] = [
    [{ ...good, flops: -1 }, 'peers[1].flops: expected a finite number > 0, found -1'],
    [{ ...good, flops: 'lots' }, 'peers[1].flops: expected a finite number > 0, found "lots"'],
    [{ ...good, flops: Number.NaN }, 'peers[1].flops: expected a finite number > 0, found NaN'],
    [{ id: 'a' }, 'peers[1].flops: expected a finite number > 0, found nothing'],
    [{ ...good, cores: 1.5 }, 'peers[1].cores: expected an integer in [1, 256], found 1.5'],
    [{ ...good, cores: 0 }, 'peers[1].cores: expected an integer in [1, 256], found 0'],
    [{ ...good, cores: 300 }, 'peers[1].cores: expected an integer in [1, 256], found 300'],
    [{ ...good, id: 'A' }, 'peers[1].id: expected a string matching /^[a-z]+$/, found "A"'],
    [{ ...good, device: 'tpu' }, 'peers[1].device: expected one of "cpu", "cuda", found "tpu"'],
    [{ ...good, tags: [] }, 'peers[1].tags: expected a list of 1 to 2 items, found a list of 0 items'],
    [
      { ...good, tags: ['a', 'b', 'c'] },
      'peers[1].tags: expected a list of 1 to 2 items, found a list of 3 items',
    ],
    [{ ...good, tags: [1] }, 'peers[1].tags[0]: expected a string, found 1'],
    [
      { ...good, colour: 'red' },
      'peers[1].colour: expected one of the fields id, flops, cores, device, tags, name, even, link, note, found an unknown field',
    ],
    [{ ...good, name: 5 }, 'peers[1].name: expected a string or an object, found 5'],
    [{ ...good, name: { first: 5 } }, 'peers[1].name.first: expected a string, found 5'],
    [{ ...good, even: 3 }, 'peers[1].even: expected an even number, found 3'],
    ['x'.repeat(100), `peers[1]: expected an object, found "${'x'.repeat(55)}…"`],
    [null, 'peers[1]: expected an object, found null'],
    [{ ...good, link: { kind: 'sat' } }, 'peers[1].link.kind: expected one of "lan", "wan", found "sat"'],
    [
      { ...good, link: { kind: 'wan', rttMs: -1 } },
      'peers[1].link.rttMs: expected a finite number ≥ 0, found -1',
    ],
    [{ ...good, note: 'ab' }, 'peers[1].note: expected a string of at most 1 character, found "ab"'],
  ]
  for (const [value, message] of cases) assert.equal(messageOf(value), message)
})

test('without a root the path starts at the first key; a bad top-level value has no path', () => {
  assert.throws(() => parseWith(peer, { ...good, flops: 0 }, BadInputError), {
    message: 'flops: expected a finite number > 0, found 0',
  })
  assert.throws(() => parseWith(peer, [], BadInputError), {
    message: 'expected an object, found a list of 0 items',
  })
  assert.throws(() => parseWith(z.record(z.string(), z.number()), { 'a b': 'x' }, BadInputError), {
    message: '["a b"]: expected a finite number, found "x"',
  })
})

test('a function builds the caller’s error from the problem, with the path and the value', () => {
  let seen: FieldProblem | undefined
  const toError = (problem: FieldProblem) => {
    seen = problem
    return new BadInputError(`${problem.path} is wrong`)
  }
  assert.throws(() => parseWith(peer, { ...good, flops: -2 }, toError, { root: 'peer.json' }), {
    name: 'BadInputError',
    message: 'peer.json.flops is wrong',
  })
  assert.deepEqual(seen, {
    path: 'peer.json.flops',
    keys: ['flops'],
    expected: 'a finite number > 0',
    found: '-2',
    input: -2,
    message: 'peer.json.flops: expected a finite number > 0, found -2',
  })
})

test('a problem carries its path as keys, so callers branch on a field without parsing the path', () => {
  const keysOf = (value: unknown) => {
    try {
      parseWith(z.array(peer), [good, value], (problem) => new BadInputError(JSON.stringify(problem.keys)))
    } catch (err) {
      return JSON.parse((err as Error).message)
    }
    assert.fail('parsed a bad value')
  }
  assert.deepEqual(keysOf({ ...good, tags: ['a', 2] }), [1, 'tags', 1])
  assert.deepEqual(keysOf({ ...good, 'odd key': 1 }), [1, 'odd key'])
  assert.deepEqual(keysOf({ ...good, link: { kind: 'wan', rttMs: -1 } }), [1, 'link', 'rttMs'])
  assert.deepEqual(keysOf(null), [1])
})

test('the parsed value is what callers use: defaults filled in, undeclared fields dropped', () => {
  const op = z.object({ id: z.string(), inputs: z._default(z.array(z.string()), []) })
  assert.deepEqual(parseWith(op, { id: 'a', colour: 'red' }, BadInputError), { id: 'a', inputs: [] })
})

test('JSON text parses, or the error names its source and what JSON.parse said', () => {
  assert.deepEqual(parseJson('{"a":[1]}', 'a.json', BadInputError), { a: [1] })
  assert.throws(() => parseJson('{"a":', 'state.json', BadInputError), {
    name: 'BadInputError',
    message: /^state\.json is not JSON: .+/,
  })
})
