/**
 * Every kind of refused update: the rejection names what was wrong, and the global model is
 * bit-identical to what it would be without that update (alone: unchanged; beside a good update:
 * the model of a run with only the good one).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type Encoded, raw, topk } from '@atoll/compress'
import { tensor } from '@atoll/core'
import {
  encodeFlUpdate,
  FederatedRounds,
  type FlAssignment,
  type FlClientUpdate,
  type FlModel,
  type FlRejectionKind,
  type FlUpdateTensor,
} from '../src/index.ts'

const DEADLINE_MS = 10_000
const start: FlModel = new Map([
  ['w', tensor('float32', [2, 3], Float32Array.of(0.5, -1, 2, 0.25, 3, -0.75))],
  ['b', tensor('float32', [3], Float32Array.of(0.1, 0.2, 0.3))],
])
const delta = (scale: number): FlModel =>
  new Map([
    [
      'w',
      tensor(
        'float32',
        [2, 3],
        Float32Array.of(1, -6, 2, 5, -3, 4).map((v) => v * scale),
      ),
    ],
    [
      'b',
      tensor(
        'float32',
        [3],
        Float32Array.of(-2, 1, 3).map((v) => v * scale),
      ),
    ],
  ])

/** Four clients, half selected; fedavg-topk at 0.5: w (6 values) may keep 3, b (3 values) 2. */
function server() {
  const rounds = new FederatedRounds({
    model: start,
    strategy: { name: 'fedavg-topk', keepRatio: 0.5 },
    roundSeconds: DEADLINE_MS / 1000,
    fraction: 0.5,
  })
  for (const [i, client] of ['a', 'b', 'c', 'd'].entries())
    rounds.register({ client, samples: 10 + i, bandwidthBps: 1e6 })
  const plan = rounds.startRound(0)
  const [first, second] = plan.assignments
  const idle = ['a', 'b', 'c', 'd'].find((c) => !plan.assignments.some((a) => a.client === c)) as string
  return { rounds, first, second, idle }
}

const withTensor = (update: FlClientUpdate, name: string, replacement?: FlUpdateTensor): FlClientUpdate => {
  const tensors = new Map(update.tensors)
  if (replacement === undefined) tensors.delete(name)
  else tensors.set(name, replacement)
  return { ...update, tensors }
}
const sparsePayload = (length: number, values: number[], gaps: number[]): Encoded => {
  const payload = new Uint8Array(values.length * 4 + gaps.length)
  new Float32Array(payload.buffer, 0, values.length).set(values)
  payload.set(gaps, values.length * 4)
  const meta = {
    k: values.length,
    values: 'float32' as const,
    index: 'varint' as const,
    indexBytes: gaps.length,
    varintBytes: gaps.length,
  }
  return { codec: 'sparse', codecMeta: meta, length, payload }
}
const bits = (model: FlModel) =>
  [...model].map(([name, t]) => [name, Buffer.from(t.data.buffer).toString('hex')])

interface Case {
  kind: FlRejectionKind
  reason: RegExp
  /** the bad update, from the first selected client unless said otherwise */
  bad: (first: FlAssignment, idle: string) => FlClientUpdate
  atMs?: number
}

const good = (assignment: FlAssignment, scale = 1) => encodeFlUpdate(assignment, delta(scale))

const CASES: Case[] = [
  {
    kind: 'unregistered',
    reason: /'mallory' is not registered/,
    bad: (a) => ({ ...good(a), client: 'mallory' }),
  },
  {
    kind: 'not-selected',
    reason: /not selected for round 0/,
    bad: (a, idle) => ({ ...good(a), client: idle }),
  },
  {
    kind: 'wrong-round',
    reason: /update for round 5, round 0 is open/,
    bad: (a) => ({ ...good(a), round: 5 }),
  },
  { kind: 'late', reason: /1 ms after round 0's deadline/, bad: (a) => good(a), atMs: DEADLINE_MS + 1 },
  { kind: 'tensors', reason: /missing 'b'/, bad: (a) => withTensor(good(a), 'b') },
  {
    kind: 'tensors',
    reason: /not in the model 'extra'/,
    bad: (a) => withTensor(good(a), 'extra', { shape: [1], encoded: raw.encode(Float32Array.of(1)) }),
  },
  {
    kind: 'shape',
    reason: /'w': shape \[3,2\].*the model's is \[2,3\]/,
    bad: (a) => withTensor(good(a), 'w', { ...(good(a).tensors.get('w') as FlUpdateTensor), shape: [3, 2] }),
  },
  {
    kind: 'codec',
    reason: /'b': codec 'raw', the round asks for a sparse update/,
    bad: (a) => withTensor(good(a), 'b', { shape: [3], encoded: raw.encode(Float32Array.of(1, 2, 3)) }),
  },
  {
    kind: 'malformed',
    reason: /'w': sparse payload needs/,
    bad: (a) => {
      const { encoded } = good(a).tensors.get('w') as FlUpdateTensor
      return withTensor(good(a), 'w', {
        shape: [2, 3],
        encoded: { ...encoded, payload: encoded.payload.subarray(1) },
      })
    },
  },
  {
    kind: 'indices',
    reason: /'b': index 0 is 3, out of range for 3 elements/,
    bad: (a) => withTensor(good(a), 'b', { shape: [3], encoded: sparsePayload(3, [1], [4]) }),
  },
  {
    kind: 'indices',
    reason: /'b': index 1 repeats index 0/,
    bad: (a) => withTensor(good(a), 'b', { shape: [3], encoded: sparsePayload(3, [1, 1], [1, 0]) }),
  },
  {
    kind: 'over-size',
    reason: /'w': 4 values kept, keep ratio 0.5 of 6 allows 3/,
    bad: (a) =>
      withTensor(good(a), 'w', {
        shape: [2, 3],
        encoded: topk.encode(Float32Array.of(1, 2, 3, 4, 5, 6), { k: 4 }),
      }),
  },
  {
    kind: 'non-finite',
    reason: /'w': value NaN at position 4/,
    bad: (a) =>
      withTensor(good(a), 'w', {
        shape: [2, 3],
        encoded: topk.encode(Float32Array.of(1, 0, 0, 0, Number.NaN, 6), { k: 3 }),
      }),
  },
  {
    kind: 'non-finite',
    reason: /'b': value -Infinity at position 2/,
    bad: (a) =>
      withTensor(good(a), 'b', {
        shape: [3],
        encoded: topk.encode(Float32Array.of(0, 1, Number.NEGATIVE_INFINITY), { k: 2 }),
      }),
  },
]

for (const { kind, reason, bad, atMs = 1000 } of CASES) {
  test(`${kind} (${reason.source}): refused with its reason, the model unchanged by it`, () => {
    // alone: the round ends at its deadline with nothing taken, and the model keeps its bits
    const alone = server()
    const result = alone.rounds.submit(bad(alone.first, alone.idle), atMs)
    assert.equal(result.accepted, false)
    if (result.accepted) return
    assert.equal(result.rejection.kind, kind)
    assert.match(result.rejection.reason, reason)
    assert.deepEqual(alone.rounds.current?.rejections, [result.rejection])
    const record = alone.rounds.finishRound(DEADLINE_MS + 1)
    assert.equal(record.applied, false)
    assert.deepEqual(bits(alone.rounds.model), bits(start))

    // beside the second client's good update: the same bits as a run with only that update
    const mixed = server()
    assert.equal(mixed.rounds.submit(bad(mixed.first, mixed.idle), atMs).accepted, false)
    assert.equal(mixed.rounds.submit(good(mixed.second), 1000).accepted, true)
    mixed.rounds.finishRound(DEADLINE_MS + 1)
    const reference = server()
    reference.rounds.submit(good(reference.second), 1000)
    reference.rounds.finishRound(DEADLINE_MS + 1)
    assert.deepEqual(bits(mixed.rounds.model), bits(reference.rounds.model))
    assert.notDeepEqual(bits(mixed.rounds.model), bits(start))
  })
}

test('duplicate: a second update from a client counts for nothing', () => {
  const { rounds, first } = server()
  assert.equal(rounds.submit(good(first), 1000).accepted, true)
  const again = rounds.submit(good(first, 100), 2000)
  assert.equal(again.accepted, false)
  if (!again.accepted)
    assert.deepEqual(
      [again.rejection.kind, again.rejection.reason],
      ['duplicate', `client '${first.client}' is already accepted`],
    )
  rounds.finishRound(DEADLINE_MS + 1)
  const reference = server()
  reference.rounds.submit(good(reference.first), 1000)
  reference.rounds.finishRound(DEADLINE_MS + 1)
  assert.deepEqual(bits(rounds.model), bits(reference.rounds.model))
})

test('a content refusal settles the client (a retry is a duplicate); an envelope refusal does not', () => {
  const { rounds, first, second } = server()
  rounds.submit(withTensor(good(first), 'b'), 1000)
  assert.equal(rounds.current?.clients.find((c) => c.client === first.client)?.status, 'rejected')
  const retry = rounds.submit(good(first), 1500)
  assert.equal(retry.accepted ? 'accepted' : retry.rejection.kind, 'duplicate')
  rounds.submit({ ...good(second), round: 3 }, 1000)
  assert.equal(rounds.current?.clients.find((c) => c.client === second.client)?.status, 'waiting')
  assert.equal(rounds.submit(good(second), 2000).accepted, true)
  assert.equal(rounds.ready(2000), true) // both settled before the deadline
  const record = rounds.finishRound(2000)
  assert.deepEqual(record.contributors, [second.client])
  assert.deepEqual(
    record.rejections.map((r) => r.kind),
    ['tensors', 'duplicate', 'wrong-round'],
  )
})
