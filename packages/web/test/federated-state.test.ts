/**
 * The page's federated state follows the client's events; the server's status is fetched and checked
 * from a real HTTP server (web's own), and the join address is the one on the page's host.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FlJoinAnswer } from '@atoll/sync'
import { fetchBoard, joinAddressesFor } from '../src/board.ts'
import { BoardError } from '../src/errors.ts'
import { followEvent } from '../src/federated-state.ts'
import type { FederatedState } from '../src/page-state.ts'
import { serveWebClient } from '../src/serve.ts'

const settings: FlJoinAnswer = {
  federation: 'fmnist',
  round: 0,
  rounds: 2,
  model: { zoo: 'mlp', seed: 0 },
  dataset: 'fashion-mnist',
  statistics: [],
  local: { epochs: 1, maxSteps: 2, batchSize: 32, lr: 0.1, momentum: 0 },
}
const task = {
  kind: 'train' as const,
  round: 0,
  keepRatio: 0.25,
  encoding: 'sparse' as const,
  deadlineInMs: 9000,
}

test('a round is recorded from its model to its outcome', () => {
  const state: FederatedState = { server: '/ip4/1.2.3.4/tcp/1/ws/p2p/x', phase: 'connecting', rounds: [] }
  const relayed = '/ip4/5.6.7.8/tcp/2/ws/p2p/r/p2p-circuit/webrtc/p2p/x'
  followEvent(state, { kind: 'connected', peerId: 'me', server: relayed, transport: 'webrtc' })
  assert.deepEqual([state.server, state.transport, state.phase], [relayed, 'webrtc', 'probing'])
  followEvent(state, { kind: 'measured', bandwidthBps: 1e6, samples: 1024 })
  followEvent(state, { kind: 'joined', settings })
  assert.deepEqual(
    [state.phase, state.federation, state.model, state.bandwidthBps],
    ['waiting', 'fmnist', 'mlp', 1e6],
  )
  followEvent(state, { kind: 'round', task, modelBytes: 400, downloadSeconds: 0.5 })
  followEvent(state, { kind: 'step', round: 0, step: 0, steps: 2, loss: 2.3 })
  assert.equal(state.phase, 'training')
  followEvent(state, { kind: 'step', round: 0, step: 1, steps: 2, loss: 2.1 })
  assert.equal(state.phase, 'uploading')
  // a step of another round (a stale event) changes nothing
  followEvent(state, { kind: 'step', round: 5, step: 0, steps: 2, loss: 9 })
  const answer = { accepted: true as const, bytes: 120 }
  followEvent(state, { kind: 'uploaded', round: 0, bytes: 120, seconds: 0.2, answer })
  followEvent(state, { kind: 'round', task: { ...task, round: 1 }, modelBytes: 400, downloadSeconds: 0.4 })
  followEvent(state, { kind: 'missed', round: 1, reason: 'the round closed' })
  followEvent(state, { kind: 'done' })
  assert.equal(state.phase, 'done')
  assert.deepEqual(
    state.rounds.map((r) => [r.round, r.keepRatio, r.losses, r.uploadBytes, r.outcome]),
    [
      [0, 0.25, [2.3, 2.1], 120, 'accepted'],
      [1, 0.25, [], undefined, 'missed: the round closed'],
    ],
  )
})

test("the server's status is fetched and checked; a page served without one gets none", async () => {
  const good = {
    federation: 'fmnist',
    strategy: 'bcrs-opwa',
    rounds: 2,
    phase: 'round',
    round: 0,
    joinAddresses: ['/ip4/127.0.0.1/tcp/4011/ws/p2p/x'],
    clients: [{ client: 'x', samples: 10, bandwidthBps: 1e6, present: true }],
    accuracy: [{ afterRounds: 0, accuracy: 0.1, loss: 2.3 }],
  }
  let served: unknown = good
  const server = await serveWebClient({
    dir: import.meta.dirname,
    json: { '/federation.json': () => served },
  })
  try {
    assert.deepEqual(await fetchBoard(`${server.url}federation.json`), good)
    served = { ...good, phase: 'sleeping' }
    await assert.rejects(fetchBoard(`${server.url}federation.json`), (err: Error) => {
      return err instanceof BoardError && /phase: expected one of/.test(err.message)
    })
    assert.equal(await fetchBoard(`${server.url}nothing.json`), undefined)
  } finally {
    await server.close()
  }
})

test('the page tries the WebSockets address on its own host first, then the others, then WebRTC through a relay', () => {
  const relayed = '/ip4/203.0.113.7/tcp/4002/ws/p2p/R/p2p-circuit/webrtc/p2p/x'
  const addresses = [relayed, '/ip4/127.0.0.1/tcp/4011/ws/p2p/x', '/ip4/10.0.0.5/tcp/4011/ws/p2p/x']
  assert.deepEqual(joinAddressesFor(addresses, '10.0.0.5'), [addresses[2], addresses[1], relayed])
  assert.deepEqual(joinAddressesFor(addresses, 'example.org'), [addresses[1], addresses[2], relayed])
  assert.deepEqual(joinAddressesFor([relayed], '[::1]'), [relayed])
  assert.deepEqual(joinAddressesFor([], 'example.org'), [])
})
