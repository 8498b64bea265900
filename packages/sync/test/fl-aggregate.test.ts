/**
 * The server's aggregation against hand-computed cases: OPWA averages each position over the clients
 * that kept it, fedavg-topk divides by every client's weight, fedavg is the sample-weighted mean, and
 * the server step is θ + η·Δ.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encodeSparse } from '@atoll/compress'
import { seededRandom, type Tensor, tensor } from '@atoll/core'
import {
  aggregateUpdates,
  applyServerStep,
  type CheckedDelta,
  encodeFlUpdate,
  FederatedRounds,
  type FlContribution,
  type FlModel,
} from '../src/index.ts'

const model = (entries: Record<string, number[]>): FlModel =>
  new Map(
    Object.entries(entries).map(([name, v]) => [name, tensor('float32', [v.length], Float32Array.from(v))]),
  )
const sparse = (indices: number[], values: number[]): CheckedDelta => ({
  kind: 'sparse',
  indices: Uint32Array.from(indices),
  values: Float32Array.from(values),
})
const contribution = (client: string, samples: number, delta: CheckedDelta): FlContribution => ({
  client,
  samples,
  tensors: new Map([['w', delta]]),
})

// Three clients over a tensor of 5 positions, p = 1, 2, 3:
//   a (p=1) keeps 0 → 4, 2 → −2;  b (p=2) keeps 0 → 1, 3 → 5;  c (p=3) keeps 2 → 2, 3 → −1
const theta = model({ w: [1, 1, 1, 1, 1] })
const round = [
  contribution('a', 1, sparse([0, 2], [4, -2])),
  contribution('b', 2, sparse([0, 3], [1, 5])),
  contribution('c', 3, sparse([2, 3], [2, -1])),
]

test('OPWA: each position averaged over the clients that kept it; a position kept by none stays 0', () => {
  // 0: (1·4 + 2·1) / (1 + 2) = 6/3 = 2
  // 1: nobody kept it → 0
  // 2: (1·(−2) + 3·2) / (1 + 3) = 4/4 = 1
  // 3: (2·5 + 3·(−1)) / (2 + 3) = 7/5 = 1.4
  // 4: nobody → 0
  const delta = aggregateUpdates('bcrs-opwa', theta, round).get('w')
  assert.deepEqual(delta, Float32Array.of(2, 0, 1, 1.4, 0))
})

test('fedavg-topk: dropped positions count as 0, so every position divides by Σp = 6', () => {
  // 0: 6/6 = 1;  2: 4/6 = 0.666…;  3: 7/6 = 1.1666…;  1 and 4: 0
  const delta = aggregateUpdates('fedavg-topk', theta, round).get('w')
  assert.deepEqual(delta, Float32Array.of(1, 0, 4 / 6, 7 / 6, 0))
})

test('the server step is θ + η·Δ, in a new model; the old one keeps its bits', () => {
  // θ = 1 everywhere, η = 0.5, Δ = OPWA's (2, 0, 1, 1.4, 0) → (2, 1, 1.5, 1.7, 1)
  const delta = aggregateUpdates('bcrs-opwa', theta, round)
  const next = applyServerStep(theta, delta, 0.5)
  assert.deepEqual(
    next.get('w')?.data,
    Float32Array.of(2, 1, 1.5, Math.fround(1 + 0.5 * Math.fround(1.4)), 1),
  )
  assert.deepEqual(theta.get('w')?.data, Float32Array.of(1, 1, 1, 1, 1))
})

test('fedavg is the sample-weighted mean of the dense deltas', () => {
  const random = seededRandom(7)
  const samples = [10, 30, 60]
  const deltas = samples.map(() => Float32Array.from({ length: 64 }, () => random() * 2 - 1))
  const contributions = samples.map(
    (p, k): FlContribution => ({
      client: `k${k}`,
      samples: p,
      tensors: new Map([['w', { kind: 'dense', values: deltas[k] }]]),
    }),
  )
  const zero = model({ w: new Array(64).fill(0) })
  const got = aggregateUpdates('fedavg', zero, contributions).get('w') as Float32Array
  for (let j = 0; j < 64; j++) {
    // weights p_k / Σp = 0.1, 0.3, 0.6
    const expected = 0.1 * deltas[0][j] + 0.3 * deltas[1][j] + 0.6 * deltas[2][j]
    assert.ok(Math.abs(got[j] - expected) < 1e-6, `position ${j}: ${got[j]} ≠ ${expected}`)
  }
})

test('through FederatedRounds: bcrs-opwa moves the model by the hand-computed OPWA step', () => {
  // Equal bandwidths → every ratio is the budget 0.4 → keepCount(5, 0.4) = 2 values per client,
  // which is what each of a, b, c keeps above. η = 0.5 → θ = (2, 1, 1.5, 1.7, 1).
  const rounds = new FederatedRounds({
    model: theta,
    strategy: { name: 'bcrs-opwa', keepRatio: 0.4, minRatio: 0.1 },
    roundSeconds: 10,
    serverLearningRate: 0.5,
  })
  for (const [client, samples] of [
    ['a', 1],
    ['b', 2],
    ['c', 3],
  ] as const) {
    rounds.register({ client, samples, bandwidthBps: 1e6 })
  }
  const plan = rounds.startRound(0)
  assert.deepEqual(
    plan.assignments.map((a) => a.keepRatio),
    [0.4, 0.4, 0.4],
  )
  // submitted in reverse order: the aggregation order is the client order, not arrival
  for (const { client, delta } of [...round]
    .reverse()
    .map((c) => ({ client: c.client, delta: c.tensors.get('w') }))) {
    const { indices, values } = delta as Extract<CheckedDelta, { kind: 'sparse' }>
    const dense = new Float32Array(5)
    indices.forEach((i, j) => {
      dense[i] = values[j]
    })
    const encoded = encodeSparse(dense, indices, indices.length)
    const result = rounds.submit(
      { client, round: 0, tensors: new Map([['w', { shape: [5], encoded }]]) },
      1000,
    )
    assert.equal(result.accepted, true)
  }
  const record = rounds.finishRound(1000)
  assert.deepEqual(record.contributors, ['a', 'b', 'c'])
  assert.deepEqual(
    rounds.model.get('w')?.data,
    Float32Array.of(2, 1, 1.5, Math.fround(1 + 0.5 * Math.fround(1.4)), 1),
  )
})

test('through FederatedRounds: fedavg with encodeFlUpdate equals θ + the weighted mean', () => {
  const start = model({ w: [0.5, -0.25, 2], b: [1] })
  const rounds = new FederatedRounds({ model: start, strategy: { name: 'fedavg' }, roundSeconds: 10 })
  rounds.register({ client: 'x', samples: 1, bandwidthBps: 1e6 })
  rounds.register({ client: 'y', samples: 3, bandwidthBps: 2e6 })
  const plan = rounds.startRound(0)
  const deltas: Record<string, Record<string, number[]>> = {
    x: { w: [4, 0, -8], b: [2] },
    y: { w: [0, 4, 8], b: [-2] },
  }
  for (const assignment of plan.assignments) {
    assert.equal(assignment.encoding, 'dense')
    assert.equal(assignment.keepRatio, 1)
    const delta = model(deltas[assignment.client]) as Map<string, Tensor<'float32'>>
    assert.equal(rounds.submit(encodeFlUpdate(assignment, delta), 5).accepted, true)
  }
  rounds.finishRound(5)
  // w: (1·(4, 0, −8) + 3·(0, 4, 8)) / 4 = (1, 3, 4) → θ = (1.5, 2.75, 6);  b: (2 − 6)/4 = −1 → θ = 0
  assert.deepEqual(rounds.model.get('w')?.data, Float32Array.of(1.5, 2.75, 6))
  assert.deepEqual(rounds.model.get('b')?.data, Float32Array.of(0))
})

test('running statistics go dense in a top-k round and become the sample-weighted mean, not a step of η', () => {
  // w is a parameter (top-k at 0.5: 1 of 2 values), mean is a running statistic (dense always)
  const start = model({ w: [1, 1], mean: [0, 10] })
  const rounds = new FederatedRounds({
    model: start,
    statistics: ['mean'],
    strategy: { name: 'fedavg-topk', keepRatio: 0.5 },
    roundSeconds: 10,
    serverLearningRate: 0.5,
  })
  rounds.register({ client: 'x', samples: 1, bandwidthBps: 1e6 })
  rounds.register({ client: 'y', samples: 3, bandwidthBps: 1e6 })
  const plan = rounds.startRound(0)
  const deltas: Record<string, Record<string, number[]>> = {
    x: { w: [4, 0], mean: [2, -4] },
    y: { w: [0, -8], mean: [6, 0] },
  }
  for (const assignment of plan.assignments) {
    assert.equal(assignment.encoding, 'sparse')
    const delta = model(deltas[assignment.client]) as Map<string, Tensor<'float32'>>
    const update = encodeFlUpdate(assignment, delta, { statistics: rounds.statistics })
    assert.equal(update.tensors.get('mean')?.encoded.codec, 'raw')
    assert.equal(update.tensors.get('w')?.encoded.codec, 'sparse')
    assert.equal(rounds.submit(update, 5).accepted, true)
  }
  rounds.finishRound(5)
  // w: fedavg-topk (1·(4, 0) + 3·(0, −8)) / 4 = (1, −6), η = 0.5 → (1.5, −2)
  // mean: (1·(2, −4) + 3·(6, 0)) / 4 = (5, −1), taken whole → (5, 9)
  assert.deepEqual(rounds.model.get('w')?.data, Float32Array.of(1.5, -2))
  assert.deepEqual(rounds.model.get('mean')?.data, Float32Array.of(5, 9))
  // a statistic sent sparse is refused by name; statistics the model lacks are an option error
  const next = rounds.startRound(10)
  const careless = encodeFlUpdate(next.assignments[0], model(deltas.x) as Map<string, Tensor<'float32'>>)
  const refused = rounds.submit(careless, 11)
  assert.ok(!refused.accepted && refused.rejection.kind === 'codec', JSON.stringify(refused))
  assert.match(
    refused.rejection.reason,
    /'mean': codec 'sparse', the round asks for a dense update \(a running statistic: dense in every round\)/,
  )
  assert.throws(
    () =>
      new FederatedRounds({
        model: start,
        statistics: ['var'],
        strategy: { name: 'fedavg' },
        roundSeconds: 1,
      }),
    /statistics 'var' are not tensors of the model/,
  )
})
