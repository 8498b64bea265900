/**
 * A joiner's state over real meshes, where it goes wrong: a state for another round is refused with
 * ReplicaStateError naming the manifest's field; a tensor of the wrong size is rejected with the
 * reason and the state counts as missing; a state that never comes fails after its deadline, naming
 * what is missing. Nothing is loaded from a state that failed. With the replica gate on, a stranger's
 * replica message is refused at its header.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { HeaderFields, TensorHeader } from '@atoll/compress'
import type { AtollMesh } from '@atoll/net'
import { replicaGate } from '../src/index.ts'
import { closeReplicas, quadraticReplica, type Replica } from './conformance-harness.ts'
import { loopbackMeshes, stopMeshes, uniformLinks } from './helpers.ts'

let meshes: AtollMesh[]
let ids: string[]
const SHORT = { slack: 1, floorSeconds: 0.5 }
const spec = { algorithm: 'local-sgd', period: 2 } as const

before(async () => {
  meshes = await loopbackMeshes(2)
  ids = meshes.map((m) => m.peerId)
})
after(async () => {
  await stopMeshes(meshes)
})

function pair(group: string, joinerRound: number): [Replica, Replica] {
  const links = uniformLinks(ids)
  const live = quadraticReplica(meshes[0], spec, { group, members: [ids[0]], links, deadline: SHORT })
  const joiner = quadraticReplica(meshes[1], spec, {
    group,
    members: ids,
    links,
    round: joinerRound,
    deadline: SHORT,
    joining: true,
  })
  for (const p of live.params) p.value.fill(3)
  return [live, joiner]
}

test('a state for another round is refused, and nothing of it is loaded', async () => {
  const [live, joiner] = pair('transfer-round', 7)
  try {
    const refused = assert.rejects(joiner.sync.receiveState(joiner), {
      name: 'ReplicaStateError',
      message: "state.manifest[1]: expected round 7 (this group's), found 0",
    })
    await live.sync.admit(ids[1], { params: live.params, optimizer: live.optimizer, nextStep: 0 })
    await refused
    for (const p of joiner.params) assert.ok(p.value.every((v) => v === 0))
  } finally {
    closeReplicas([live, joiner])
  }
})

test('a tensor of the wrong size is rejected with the reason; the state is missing when its deadline comes', async () => {
  const [live, joiner] = pair('transfer-size', 0)
  try {
    const missing = assert.rejects(joiner.sync.receiveState(joiner), {
      name: 'ReplicaStateError',
      message: /^state: 9 of 9 tensors missing after \d+\.\d s \(first: 'param\/l0\.weight'\)$/,
    })
    const fields = {
      job: 'transfer-size',
      step: 0,
      mb: 0,
      dtype: 'float32',
      codec: 'raw',
      codecMeta: {},
    } as const
    await meshes[0].tensors.send(
      ids[1],
      { ...fields, edge: 'replica:state:param/l0.bias', shape: [2] },
      new Uint8Array(8),
    )
    await missing
    const reasons = joiner.events.flatMap((e) => (e.kind === 'rejected' ? [e.reason] : []))
    assert.deepEqual(reasons, ["'param/l0.bias' has 2 elements, expected 6"])
  } finally {
    closeReplicas([live, joiner])
  }
})

test("with the replica gate on, a stranger's replica message is refused at its header; other tensors are not its business", async () => {
  const links = uniformLinks(ids)
  const live = quadraticReplica(meshes[0], spec, { group: 'transfer-gate', members: [ids[0]], links })
  meshes[0].tensors.setGate(replicaGate(meshes[0]))
  try {
    const ask: HeaderFields = {
      job: 'transfer-gate',
      step: 0,
      mb: 0,
      edge: 'replica:ask:@',
      dtype: 'float32',
      shape: [1],
      codec: 'raw',
      codecMeta: {},
    }
    await assert.rejects(meshes[1].tensors.send(ids[0], ask, new Uint8Array(4)), {
      name: 'TransferRejectedError',
      message: new RegExp(`${ids[1]} is not a member of 'transfer-gate'`),
    })
    await assert.rejects(meshes[1].tensors.send(ids[0], { ...ask, job: 'elsewhere' }, new Uint8Array(4)), {
      message: /no synchronizer of group 'elsewhere' here/,
    })
    const other: TensorHeader = { ...ask, v: 1, bytes: 4, edge: 'h.0->h.1' }
    assert.equal(replicaGate(meshes[0])(other, ids[1]), undefined)
  } finally {
    meshes[0].tensors.setGate(undefined)
    closeReplicas([live])
  }
})
