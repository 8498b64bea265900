/**
 * The federated server on real libp2p meshes (127.0.0.1): an honest client (sync's runFlClient), a
 * client whose update holds a NaN, one whose tensor has the wrong shape, and a stranger that never
 * joined. Every bad message is refused with its reason, the round goes on, and the global model
 * moves by the honest client's update alone.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { raw } from '@atoll/compress'
import { tensor } from '@atoll/core'
import { AtollMesh, createNode, listenAddresses, type Multiaddr } from '@atoll/net'
import { FlServer, type FlServerEvent } from '../src/index.ts'
import {
  FederatedRounds,
  type FlModel,
  flEdge,
  flJoinMethod,
  flModelMethod,
  flSubmitMethod,
  flTaskMethod,
  runFlClient,
} from '@atoll/sync'

const meshes: AtollMesh[] = []
after(() => Promise.all(meshes.map((m) => m.stop(0))))

async function startMesh(): Promise<AtollMesh> {
  const mesh = new AtollMesh(await createNode({ listen: ['/ip4/127.0.0.1/tcp/0'], webrtc: false }))
  await mesh.start()
  meshes.push(mesh)
  return mesh
}

const initial: FlModel = new Map([
  [
    'w',
    tensor(
      'float32',
      [4, 3],
      Float32Array.from({ length: 12 }, (_, i) => i / 10),
    ),
  ],
  ['b', tensor('float32', [3], new Float32Array([1, 2, 3]))],
])

/** Calls a malicious client makes by hand: join, wait for its task, take the model. */
async function joinAndTakeModel(mesh: AtollMesh, server: Multiaddr) {
  const joined = await mesh.ctrl.call(server, flJoinMethod, { samples: 10, bandwidthBps: 1e6 })
  const task = await mesh.ctrl.call(
    server,
    flTaskMethod,
    { federation: joined.federation, after: -1, waitMs: 20_000 },
    { timeoutMs: 30_000 },
  )
  assert.equal(task.kind, 'train')
  await mesh.ctrl.call(server, flModelMethod, { federation: joined.federation, round: 0 })
  return joined.federation
}

async function sendUpdate(
  mesh: AtollMesh,
  server: Multiaddr,
  name: string,
  shape: number[],
  values: Float32Array,
) {
  const { codec, codecMeta, payload } = raw.encode(values)
  const fields = { job: 'fl-test', step: 0, mb: 0, edge: flEdge.update(name), dtype: 'float32' as const }
  await mesh.tensors.send(server, { ...fields, shape, codec, codecMeta }, payload)
}

test('bad updates are refused with their reason, the round goes on, and only the honest update moves the model', async () => {
  const serverMesh = await startMesh()
  const address = listenAddresses(serverMesh.node)[0]
  const events: FlServerEvent[] = []
  const rounds = new FederatedRounds({
    model: initial,
    strategy: { name: 'fedavg' },
    roundSeconds: 60,
    minClients: 3,
  })
  const server = new FlServer({
    mesh: serverMesh,
    federation: 'fl-test',
    rounds,
    lastRound: 1,
    minClients: 3,
    settings: {
      rounds: 1,
      model: { zoo: 'mlp', seed: 0 },
      dataset: 'fashion-mnist',
      statistics: [],
      local: { epochs: 1, maxSteps: 0, batchSize: 4, lr: 0.1, momentum: 0 },
    },
    evaluate: async (model) => ({ loss: 0, accuracy: (model.get('b') as { data: Float32Array }).data[0] }),
    afterRound: async () => {},
    onEvent: (event) => events.push(event),
  })
  const serving = server.run()

  const honest = await startMesh()
  const honestRun = runFlClient({
    mesh: honest,
    server: address,
    samples: 10,
    bandwidthBps: 1e6,
    // Δ = 0.5 everywhere
    train: async ({ model }) =>
      new Map(
        [...model].map(([name, t]) => [
          name,
          tensor(
            'float32',
            [...t.shape],
            t.data.map(() => 0.5),
          ),
        ]),
      ),
  })

  const nan = await startMesh()
  const shaped = await startMesh()
  const stranger = await startMesh()
  const [federation] = await Promise.all([joinAndTakeModel(nan, address), joinAndTakeModel(shaped, address)])
  assert.equal(federation, 'fl-test')

  // a stranger's tensor is refused at its header; its submit is refused as unregistered
  await assert.rejects(sendUpdate(stranger, address, 'b', [3], new Float32Array(3)), /has not joined/)
  const strangerAnswer = await stranger.ctrl.call(address, flSubmitMethod, { federation, round: 0 })
  assert.deepEqual(
    { accepted: strangerAnswer.accepted, kind: strangerAnswer.accepted ? '' : strangerAnswer.kind },
    { accepted: false, kind: 'unregistered' },
  )
  // another federation's name is refused outright
  await assert.rejects(
    stranger.ctrl.call(address, flSubmitMethod, { federation: 'other', round: 0 }),
    /not served here/,
  )

  // NaN: refused by content
  await sendUpdate(nan, address, 'w', [4, 3], new Float32Array(12))
  await sendUpdate(nan, address, 'b', [3], new Float32Array([0, Number.NaN, 0]))
  const nanAnswer = await nan.ctrl.call(address, flSubmitMethod, { federation, round: 0 })
  assert.equal(nanAnswer.accepted, false)
  assert.equal(nanAnswer.accepted === false && nanAnswer.kind, 'non-finite')
  // a second try in the same round is a duplicate, and its tensors are refused at the header
  await assert.rejects(sendUpdate(nan, address, 'b', [3], new Float32Array(3)), /already rejected/)

  // wrong shape (same element count, so it passes the gate): refused by content
  await sendUpdate(shaped, address, 'w', [3, 4], new Float32Array(12).fill(100))
  await sendUpdate(shaped, address, 'b', [3], new Float32Array(3).fill(100))
  const shapeAnswer = await shaped.ctrl.call(address, flSubmitMethod, { federation, round: 0 })
  assert.equal(shapeAnswer.accepted === false && shapeAnswer.kind, 'shape')

  const summary = await honestRun
  assert.deepEqual(summary, { accepted: [0], refused: [] })
  const metrics = await serving
  assert.equal(metrics.length, 1)
  assert.deepEqual(
    { accepted: metrics[0].accepted, rejected: metrics[0].rejected, dropped: metrics[0].dropped },
    { accepted: 1, rejected: 2, dropped: 0 },
  )
  const record = rounds.history[0]
  assert.deepEqual(record.contributors, [honest.peerId])
  for (const [name, t] of rounds.model) {
    const before = initial.get(name)?.data as Float32Array
    assert.deepEqual(
      [...t.data],
      [...before].map((v) => Math.fround(v + 0.5)),
      name,
    )
  }
  const reasons = events.flatMap((e) => (e.kind === 'update' && !e.answer.accepted ? [e.answer.kind] : []))
  assert.deepEqual(reasons.sort(), ['non-finite', 'shape', 'unregistered'])
  assert.ok(events.some((e) => e.kind === 'refused' && /has not joined/.test(e.reason)))
})
