/**
 * The coordinator's check that a stage's replicas applied the same gradient means in a step (S-SGD):
 * a replica that took another mean than most of its stage, or none (left out and told nothing), is
 * named; stages are judged apart.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { disagreeing } from '../src/job/agreement.ts'

const round = (contributors: string[], r = 7) => [{ round: r, contributors }]

test('replicas that applied the same means agree; algorithms without gradient rounds always do', () => {
  const all = ['a', 'b', 'c']
  assert.deepEqual(disagreeing(all.map((peer) => ({ peer, stage: 0, rounds: round(all) }))), [])
  // one left out and caught up: it applied the others' mean, as they did
  assert.deepEqual(disagreeing(all.map((peer) => ({ peer, stage: 0, rounds: round(['a', 'b']) }))), [])
  assert.deepEqual(disagreeing(all.map((peer) => ({ peer, stage: 0, rounds: [] }))), [])
})

test('a replica told no outcome, or with another view of who contributed, is named', () => {
  assert.deepEqual(
    disagreeing([
      { peer: 'a', stage: 0, rounds: round(['a', 'b']) },
      { peer: 'b', stage: 0, rounds: round(['a', 'b']) },
      { peer: 'c', stage: 0, rounds: round([]) },
    ]),
    ['c'],
  )
  // two views: the one most replicas hold is the stage's, then the first
  assert.deepEqual(
    disagreeing([
      { peer: 'a', stage: 0, rounds: round(['b', 'c']) },
      { peer: 'b', stage: 0, rounds: round(['a', 'b']) },
      { peer: 'c', stage: 0, rounds: round(['a', 'b']) },
    ]),
    ['a'],
  )
  assert.deepEqual(
    disagreeing([
      { peer: 'a', stage: 0, rounds: round([]) },
      { peer: 'b', stage: 0, rounds: round(['b', 'c']) },
      { peer: 'c', stage: 0, rounds: round(['b', 'c']) },
    ]),
    ['a'],
  )
  assert.deepEqual(
    disagreeing([
      { peer: 'a', stage: 0, rounds: round(['a', 'b']) },
      { peer: 'b', stage: 0, rounds: round(['a', 'b']) },
      { peer: 'c', stage: 0, rounds: round(['b', 'c']) },
    ]),
    ['c'],
  )
  // another round number is another view too
  assert.deepEqual(
    disagreeing([
      { peer: 'a', stage: 0, rounds: round(['a', 'b'], 7) },
      { peer: 'b', stage: 0, rounds: round(['a', 'b'], 8) },
    ]),
    ['b'],
  )
})

test('each stage is judged apart', () => {
  assert.deepEqual(
    disagreeing([
      { peer: 'a', stage: 0, rounds: round(['a', 'b']) },
      { peer: 'x', stage: 1, rounds: round(['x', 'y']) },
      { peer: 'b', stage: 0, rounds: round(['a', 'b']) },
      { peer: 'y', stage: 1, rounds: round(['y']) },
    ]),
    ['y'],
  )
})
