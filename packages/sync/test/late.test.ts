/**
 * Deadlines over real meshes: a member that never sends makes the all-reduce fail on every other
 * member with LateReplicaError naming it — also the members that waited only on others' sums, who
 * learn the name from the notice of a member that waited on it directly. The others then run the
 * round again without it; the late member, when it comes, finds itself named; a member whose peer
 * has gone is told at once. Deadlines are short (0.3 s floor) so that the tests are quick.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { AtollMesh } from '@atoll/net'
import { LateReplicaError, SyncGroup } from '../src/index.ts'
import {
  loopbackMeshes,
  noticesReaching,
  sameBits,
  sequentialSum,
  spreadValues,
  stopMeshes,
  uniformLinks,
} from './helpers.ts'

let meshes: AtollMesh[]
let ids: string[]
const SHORT = { slack: 3, floorSeconds: 0.3 }
const LONG = { floorSeconds: 10 }

before(async () => {
  meshes = await loopbackMeshes(4)
  ids = meshes.map((m) => m.peerId)
})
after(async () => {
  await stopMeshes(meshes)
})

/** A group on each mesh in `on`, over all four members. */
function groupsOn(group: string, on: readonly number[]): SyncGroup[] {
  return on.map(
    (i) => new SyncGroup({ mesh: meshes[i], group, members: ids, links: uniformLinks(ids), deadline: SHORT }),
  )
}

/** The error each of `runs` fails with (an all-reduce that succeeds fails the test). */
async function failures(runs: Promise<Float32Array>[]): Promise<LateReplicaError[]> {
  const settled = await Promise.allSettled(runs)
  return settled.map((s) => {
    assert.equal(s.status, 'rejected', 'the all-reduce should have failed')
    const err = (s as PromiseRejectedResult).reason
    assert.ok(err instanceof LateReplicaError, `${err}`)
    return err
  })
}

// [member that never sends, tensor length]: with fewer elements than members, some members own no
// chunk and wait only on other members' sums
for (const [mute, length] of [
  [3, 10],
  [3, 2],
  [1, 2],
  [0, 1],
] as const) {
  test(`member ${mute} never sends (${length} elements): every other member fails naming it`, async () => {
    const others = [0, 1, 2, 3].filter((i) => i !== mute)
    const groups = groupsOn(`mute-${mute}-${length}`, others)
    try {
      const inputs = others.map((i) => spreadValues(length, i + 1))
      const errors = await failures(groups.map((g, k) => g.allReduce(0, inputs[k])))
      for (const err of errors) {
        assert.deepEqual(err.peers, [ids[mute]])
        assert.equal(err.round, 0)
      }
      // a member that owns no chunk waited on no one directly: it has the name from a notice
      if (length < 4) assert.ok(errors.some((err) => /reported by/.test(err.message)))
      // the others renormalise: the same round again without the late member
      for (const g of groups) g.exclude([ids[mute]])
      const results = await Promise.all(groups.map((g, k) => g.allReduce(0, inputs[k], { deadline: LONG })))
      for (const result of results) assert.ok(sameBits(result, sequentialSum(inputs)))
    } finally {
      for (const g of groups) g.close()
    }
  })
}

test('the late member, when it comes, finds itself named in the notices that wait for it', async () => {
  const groups = groupsOn('comes-late', [0, 1, 2, 3])
  const late = groups[3]
  try {
    const notices = noticesReaching(meshes[3], 3)
    const inputs = groups.map((_, i) => spreadValues(12, i + 1))
    const errors = await failures(groups.slice(0, 3).map((g, i) => g.allReduce(0, inputs[i])))
    for (const err of errors) assert.deepEqual(err.peers, [ids[3]])
    await notices
    const [own] = await failures([late.allReduce(0, inputs[3])])
    assert.deepEqual(own.peers, [ids[3]])
    assert.match(own.message, /reported by/)
  } finally {
    for (const g of groups) g.close()
  }
})

test('a member whose mesh has stopped is named at once, not at the deadline', async () => {
  const groups = groupsOn('gone', [0, 1, 2])
  try {
    await meshes[3].stop(100)
    const inputs = groups.map((_, i) => spreadValues(40, i + 1))
    const runs = groups.map((g, i) => g.allReduce(0, inputs[i], { deadline: { floorSeconds: 60 } }))
    const errors = await failures(runs)
    for (const err of errors) assert.deepEqual(err.peers, [ids[3]])
    assert.ok(errors.some((err) => /could not send to it/.test(err.message)))
  } finally {
    for (const g of groups) g.close()
  }
})
