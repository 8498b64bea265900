/**
 * FederatedRounds' round machine: seeded selection (fraction, minimum, independent of registration
 * order), keep ratios per strategy, the caller's clock for deadlines (late clients dropped, not
 * waited for), the per-round record, and the misuse errors.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { tensor } from '@atoll/core'
import {
  encodeFlUpdate,
  FederatedRounds,
  type FederatedRoundsInit,
  FlClientError,
  FlOptionError,
  FlRoundStateError,
  type FlModel,
  NotEnoughClientsError,
  selectClients,
} from '../src/index.ts'

const MB = 1e6
const start: FlModel = new Map([['w', tensor('float32', [4], Float32Array.of(1, 2, 3, 4))]])
const delta = (...values: number[]): FlModel =>
  new Map([['w', tensor('float32', [4], Float32Array.from(values))]])
const ids = (n: number) => Array.from({ length: n }, (_, i) => `client-${String(i).padStart(2, '0')}`)

function server(init: Partial<FederatedRoundsInit>, clients: string[], bandwidths?: number[]) {
  const rounds = new FederatedRounds({
    model: start,
    strategy: { name: 'fedavg' },
    roundSeconds: 10,
    ...init,
  })
  for (const [i, client] of clients.entries()) {
    rounds.register({ client, samples: 1, bandwidthBps: (bandwidths?.[i] ?? 1) * MB })
  }
  return rounds
}

test('selection: max(minClients, ⌈fraction·n⌉) clients, sorted, the same for a seed whatever the registration order', () => {
  const clients = ids(10)
  const options = { fraction: 0.3, minClients: 2, seed: 42 }
  const picks = [0, 1, 2, 3, 4].map((round) => selectClients(clients, round, options))
  for (const pick of picks) {
    assert.equal(pick.length, 3) // 0.3 × 10 is 3.0000000000000004 in floats: still 3
    assert.deepEqual(pick, [...pick].sort())
    assert.equal(new Set(pick).size, 3)
  }
  assert.ok(new Set(picks.map((p) => p.join())).size > 1, 'rounds select different clients')
  assert.deepEqual(selectClients([...clients].reverse(), 3, options), picks[3])
  assert.notDeepEqual(
    [0, 1, 2, 3, 4].map((round) => selectClients(clients, round, { ...options, seed: 43 }).join()),
    picks.map((p) => p.join()),
  )
  assert.equal(selectClients(clients, 0, { fraction: 0.1, minClients: 5, seed: 0 }).length, 5)
})

test('selection: fewer registered clients than the minimum is NotEnoughClientsError', () => {
  const rounds = server({ minClients: 2 }, ['solo'])
  assert.throws(() => rounds.startRound(0), NotEnoughClientsError)
  assert.equal(rounds.current, undefined)
})

test('a round: selected clients get their BCRS ratios; a client past the deadline is dropped, not waited for', () => {
  // B = 1, 3 MB/s, mean 0.5 (min 0.1, max 1) → c = 1/4 → ρ = 0.25, 0.75
  const rounds = server(
    { strategy: { name: 'bcrs-opwa', keepRatio: 0.5, minRatio: 0.1 } },
    ['slow', 'fast'],
    [1, 3],
  )
  const plan = rounds.startRound(1000)
  assert.equal(plan.deadlineMs, 11_000)
  assert.deepEqual(
    plan.assignments.map((a) => [a.client, a.keepRatio, a.encoding]),
    [
      ['fast', 0.75, 'sparse'],
      ['slow', 0.25, 'sparse'],
    ],
  )
  const fast = plan.assignments[0]
  const result = rounds.submit(encodeFlUpdate(fast, delta(4, -8, 2, 1)), 3000) // keepCount(4, 0.75) = 3 values
  assert.deepEqual(result, { accepted: true, bytes: 3 * 4 + 3 })
  assert.equal(rounds.ready(5000), false) // slow still uploading, deadline not reached
  assert.throws(() => rounds.finishRound(5000), FlRoundStateError)
  const late = rounds.submit(encodeFlUpdate(plan.assignments[1], delta(1, 1, 1, 1)), 11_001)
  assert.equal(late.accepted ? 'accepted' : late.rejection.kind, 'late')
  assert.equal(rounds.ready(11_001), true)
  const record = rounds.finishRound(11_001)
  assert.deepEqual(record.contributors, ['fast'])
  assert.equal(record.applied, true)
  const slow = record.clients.find((c) => c.client === 'slow')
  assert.deepEqual([slow?.status, slow?.reason], ['dropped', 'missed the deadline'])
  assert.deepEqual(
    record.clients.find((c) => c.client === 'fast'),
    {
      client: 'fast',
      samples: 1,
      bandwidthBps: 3 * MB,
      keepRatio: 0.75,
      status: 'accepted',
      bytes: 15,
      predictedUploadSeconds: 15 / (3 * MB),
      arrivedAfterMs: 2000,
    },
  )
  // OPWA over one client: its kept values as they are (−8, 4, 2 kept; 1 dropped) → θ + Δ
  assert.deepEqual(rounds.model.get('w')?.data, Float32Array.of(5, -6, 5, 4))
  assert.equal(rounds.round, 1)
  assert.deepEqual(rounds.history, [record])
})

test("a round whose clients all answer is ready before its deadline; the next round refuses the last one's updates", () => {
  const rounds = server({ strategy: { name: 'fedavg-topk', keepRatio: 0.5 } }, ['a', 'b'])
  const plan = rounds.startRound(0)
  assert.deepEqual(
    plan.assignments.map((a) => a.keepRatio),
    [0.5, 0.5],
  )
  for (const assignment of plan.assignments) rounds.submit(encodeFlUpdate(assignment, delta(1, 2, 3, 4)), 100)
  assert.equal(rounds.ready(100), true)
  rounds.finishRound(100)
  assert.throws(() => rounds.finishRound(100), FlRoundStateError)
  const next = rounds.startRound(200)
  assert.equal(next.round, 1)
  assert.throws(() => rounds.startRound(200), /round 1 is still open/)
  const stale = rounds.submit(encodeFlUpdate(plan.assignments[0], delta(1, 2, 3, 4)), 300)
  assert.equal(stale.accepted ? 'accepted' : stale.rejection.reason, 'update for round 0, round 1 is open')
})

test('a round with no update taken leaves the model as it was and still advances', () => {
  const rounds = server({ roundSeconds: 1 }, ['a', 'b'])
  rounds.startRound(0)
  const record = rounds.finishRound(1000)
  assert.equal(record.applied, false)
  assert.deepEqual(
    record.clients.map((c) => c.status),
    ['dropped', 'dropped'],
  )
  assert.deepEqual(rounds.model.get('w')?.data, start.get('w')?.data)
  assert.equal(rounds.round, 1)
})

test('a bandwidth measurement counts from the next round; a client that leaves mid-round is dropped from it', () => {
  const rounds = server({ strategy: { name: 'bcrs-opwa', keepRatio: 0.4, minRatio: 0.05 } }, ['a', 'b', 'c'])
  assert.deepEqual(
    rounds.startRound(0).assignments.map((a) => a.keepRatio),
    [0.4, 0.4, 0.4],
  )
  rounds.updateBandwidth('a', 4 * MB) // B = 4, 1, 1: c = 1.2/6 = 0.2 → ρ = 0.8, 0.2, 0.2
  assert.deepEqual(
    rounds.current?.clients.map((c) => c.keepRatio),
    [0.4, 0.4, 0.4],
  )
  rounds.unregister('c')
  assert.deepEqual(
    rounds.current?.clients.map((c) => c.status),
    ['waiting', 'waiting', 'dropped'],
  )
  rounds.finishRound(10_000)
  rounds.register({ client: 'c', samples: 1, bandwidthBps: MB })
  const ratios = rounds.startRound(20_000).assignments.map((a) => a.keepRatio)
  for (const [i, r] of ratios.entries()) assert.ok(Math.abs(r - [0.8, 0.2, 0.2][i]) < 1e-12)
})

test('registration and options are checked, naming the client or field', () => {
  const rounds = server({}, ['a'])
  assert.throws(() => rounds.register({ client: 'a', samples: 1, bandwidthBps: MB }), FlClientError)
  assert.throws(
    () => rounds.register({ client: 'z', samples: 1, bandwidthBps: 0 }),
    /client 'z': bandwidthBps/,
  )
  assert.throws(() => rounds.register({ client: 'z', samples: 0, bandwidthBps: MB }), /client 'z': samples/)
  assert.throws(() => rounds.updateBandwidth('a', Number.NaN), /client 'a': bandwidthBps .* got NaN/)
  assert.throws(() => rounds.updateBandwidth('nobody', MB), FlClientError)
  for (const bad of [
    { fraction: 0 },
    { minClients: 0 },
    { roundSeconds: -1 },
    { serverLearningRate: Number.NaN },
    { strategy: { name: 'fedavg-topk' as const, keepRatio: 1.5 } },
    { strategy: { name: 'bcrs-opwa' as const, keepRatio: 0.0001 } }, // below the default min 0.001
  ]) {
    assert.throws(() => server(bad, []), FlOptionError, JSON.stringify(bad))
  }
})
