/** The server's page's view of a federation follows the server's events, and passes the page's schema. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseWith } from '@atoll/core'
import { federationStatus } from '@atoll/sync'
import { FederationBoard } from '../src/index.ts'

test('joins, a round and its evaluation show on the board as the page reads it', () => {
  const board = new FederationBoard({
    federation: 'fmnist',
    strategy: 'bcrs-opwa',
    rounds: 3,
    joinAddresses: ['/ip4/127.0.0.1/tcp/4011/ws/p2p/server'],
  })
  assert.equal(board.status().phase, 'starting')
  board.observe({ kind: 'resumed', round: 1 })
  board.observe({ kind: 'serving' })
  board.observe({ kind: 'evaluated', round: 'start', evaluation: { accuracy: 0.5, loss: 1.5 } })
  for (const [client, bandwidthBps] of [
    ['a', 1e6],
    ['b', 4e6],
  ] as const)
    board.observe({ kind: 'joined', client, samples: 100, bandwidthBps, again: false })
  const assignment = (client: string, keepRatio: number) => ({
    client,
    round: 1,
    keepRatio,
    encoding: 'sparse' as const,
    deadlineMs: 0,
  })
  const plan = { round: 1, deadlineMs: 0, assignments: [assignment('a', 0.1), assignment('b', 0.4)] }
  board.observe({ kind: 'round-start', plan })
  board.observe({ kind: 'update', round: 1, client: 'b', answer: { accepted: true, bytes: 800 } })
  let status = parseWith(federationStatus, board.status(), Error)
  assert.deepEqual([status.phase, status.round], ['round', 1])
  assert.deepEqual(
    status.clients.map((c) => [c.client, c.last?.keepRatio, c.last?.status, c.last?.bytes]),
    [
      ['a', 0.1, 'waiting', undefined],
      ['b', 0.4, 'accepted', 800],
    ],
  )
  board.observe({ kind: 'left', client: 'a' })
  board.observe({ kind: 'evaluated', round: 1, evaluation: { accuracy: 0.7, loss: 0.9 } })
  const clients = [
    {
      client: 'a',
      bandwidthBps: 1e6,
      samples: 100,
      keepRatio: 0.1,
      status: 'dropped' as const,
      reason: 'left',
    },
    {
      client: 'b',
      bandwidthBps: 4e6,
      samples: 100,
      keepRatio: 0.4,
      status: 'accepted' as const,
      bytes: 800,
      predictedUploadSeconds: 0.0002,
      arrivedAfterMs: 1500,
    },
  ]
  const record = {
    round: 1,
    strategy: 'bcrs-opwa' as const,
    startedAtMs: 0,
    deadlineMs: 0,
    clients,
    rejections: [],
    contributors: ['b'],
    applied: true,
  }
  const metrics = {
    round: 1,
    selected: 2,
    accepted: 1,
    rejected: 0,
    dropped: 1,
    uploadBytes: 800,
    seconds: 2,
    keepRatios: {},
    accuracy: 0.7,
    loss: 0.9,
  }
  board.observe({ kind: 'round', metrics, record })
  board.done()
  status = parseWith(federationStatus, board.status(), Error)
  assert.deepEqual([status.phase, status.round], ['done', 2])
  assert.deepEqual(status.accuracy, [
    { afterRounds: 1, accuracy: 0.5, loss: 1.5 },
    { afterRounds: 2, accuracy: 0.7, loss: 0.9 },
  ])
  const [a, b] = status.clients
  assert.deepEqual([a.present, a.last?.status, a.last?.reason], [false, 'dropped', 'left'])
  assert.deepEqual([b.last?.uploadSeconds, b.last?.arrivedAfterSeconds], [0.0002, 1.5])
})
