/**
 * A replica excluded from a round is a member of its group again as soon as the round ends on the
 * others, not only once they start the next round. Replicas enter a round at different times: one
 * that starts round r + 1 first sends to members still between rounds, whose tensor gate checks the
 * sender against the group's members. Were the exclusion still in force there, the message would be
 * refused ("not a member"), the sender would count the refusal as that member being late, and under
 * load every member could end up naming every other.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { AtollMesh } from '@atoll/net'
import { closeReplicas, quadraticReplica, roundEvents } from './conformance-harness.ts'
import { loopbackMeshes, stopMeshes, uniformLinks } from './helpers.ts'

let meshes: AtollMesh[]
const SHORT = { slack: 3, floorSeconds: 0.3 }

before(async () => {
  meshes = await loopbackMeshes(3)
})
after(async () => {
  await stopMeshes(meshes)
})

test('S-SGD: once a round without a late replica ends, the others count it a member again at once', async () => {
  const ids = meshes.map((m) => m.peerId)
  const replicas = meshes.map((mesh) =>
    quadraticReplica(
      mesh,
      { algorithm: 'ssgd' },
      { group: 'rejoin', members: ids, links: uniformLinks(ids), deadline: SHORT },
    ),
  )
  const [a, b, late] = replicas
  try {
    // round 0 without `late`, which never starts it: the others exclude it at the deadline
    for (const r of [a, b]) for (const p of r.params) p.grad.fill(1)
    await Promise.all([a, b].map((r) => r.sync.gradients(0, r.params)))
    for (const r of [a, b]) {
      const [round] = roundEvents(r)
      assert.deepEqual([round.round, round.contributors, round.excluded], [0, [a.id, b.id], [late.id]])
      // between rounds (neither has started round 1): the group takes the late replica's messages
      assert.deepEqual(r.group.members, ids)
    }
  } finally {
    closeReplicas(replicas)
  }
})
