/**
 * Messages that do not belong to a running all-reduce — from a peer that is no member, for another
 * group, for a round too far ahead, of the wrong shape, holding NaN, with a malformed edge, or for a
 * round already over — are rejected with the reason, and the round completes with the right sum.
 * With the sync gate on the mesh, a stranger's message is refused at its header and the sender is
 * told why. Real meshes on 127.0.0.1: members 0–2, a stranger 3.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { HeaderFields } from '@atoll/compress'
import type { AtollMesh } from '@atoll/net'
import { parseSyncEdge, type SyncGroup, type SyncRejection, syncGate } from '../src/index.ts'
import { groupsOf, loopbackMeshes, sameBits, sequentialSum, spreadValues, stopMeshes } from './helpers.ts'

let meshes: AtollMesh[]
let groups: SyncGroup[]
const seen: SyncRejection[] = []
const waiters: (() => void)[] = []

before(async () => {
  meshes = await loopbackMeshes(4)
  groups = groupsOf(meshes.slice(0, 3), { group: 'rej' })
  groups[0].onReject((r) => {
    seen.push(r)
    for (const wake of waiters.splice(0)) wake()
  })
})
after(async () => {
  for (const g of groups) g.close()
  await stopMeshes(meshes)
})

/** Resolves once member 0 has reported `count` rejections in all. */
async function rejectionsReach(count: number): Promise<void> {
  while (seen.length < count) await new Promise<void>((resolve) => waiters.push(resolve))
}

/** The layout fingerprint of member 0's round-0 'sum', read off the first piece it sends member 1. */
function fingerprintSeenBy(mesh: AtollMesh): Promise<string> {
  return new Promise((resolve) => {
    const off = mesh.tensors.onMessage(({ header }) => {
      if (header.job !== 'rej' || header.step !== 0) return
      off()
      resolve(parseSyncEdge(header.edge).fingerprint)
    })
  })
}

const floats = (...values: number[]) => new Uint8Array(Float32Array.from(values).buffer)

test('foreign, wrong-round, wrong-shape, NaN and malformed messages are rejected with reasons; the round completes', async () => {
  const inputs = groups.map((_, i) => spreadValues(10, 1 + i))
  const fingerprint = fingerprintSeenBy(meshes[1])
  const running = [groups[0].allReduce(0, inputs[0]), groups[2].allReduce(0, inputs[2])]
  const edge = `sync:${await fingerprint}:rs:0:sum`
  // member 0 owns elements 0..2 of 10: member 1's part for it is raw float32[3], piece 0
  const part: HeaderFields = {
    job: 'rej',
    step: 0,
    mb: 0,
    edge,
    dtype: 'float32',
    shape: [3],
    codec: 'raw',
    codecMeta: {},
  }
  const to = meshes[0].peerId
  await meshes[3].tensors.send(to, part, floats(1, 2, 3))
  await meshes[1].tensors.send(to, { ...part, job: 'other' }, floats(1, 2, 3))
  await meshes[1].tensors.send(to, { ...part, step: 5 }, floats(1, 2, 3))
  await meshes[1].tensors.send(to, { ...part, shape: [4] }, floats(1, 2, 3, 4))
  await meshes[1].tensors.send(to, part, floats(Number.NaN, 2, 3))
  await meshes[1].tensors.send(to, { ...part, edge: 'sync:zz:rs:0:sum' }, floats(1, 2, 3))
  await rejectionsReach(6)
  const results = await Promise.all([...running, groups[1].allReduce(0, inputs[1])])
  for (const result of results)
    assert.ok(sameBits(result, sequentialSum(inputs)), 'nothing rejected was mixed in')
  const reasons = seen.map((r) => `${r.kind}: ${r.reason}`)
  assert.match(reasons[0], /^foreign: .* is not a member of 'rej'/)
  assert.equal(reasons[1], "foreign: no sync group 'other' here")
  assert.equal(reasons[2], 'foreign: round 5 is beyond this round (0) and the next')
  assert.equal(reasons[3], `foreign: rs chunk 0 piece 0 should be raw[3], is raw[4]`)
  assert.equal(reasons[4], 'malformed: element 0 is NaN')
  assert.match(reasons[5], /^malformed: edge.fingerprint: expected .*, found "zz"/)
  assert.deepEqual(
    seen.map((r) => r.from),
    [meshes[3].peerId, ...Array(5).fill(meshes[1].peerId)],
  )

  // once the round is over here, its messages are late
  await meshes[1].tensors.send(to, part, floats(1, 2, 3))
  await rejectionsReach(7)
  assert.equal(`${seen[6].kind}: ${seen[6].reason}`, "late: round 0 'sum' has ended here")
})

test("with the sync gate on, a stranger's message is refused at its header and the sender told why", async () => {
  meshes[0].tensors.setGate(syncGate(meshes[0]))
  try {
    const edge = 'sync:00000000:rs:0:sum'
    const part: HeaderFields = {
      job: 'rej',
      step: 1,
      mb: 0,
      edge,
      dtype: 'float32',
      shape: [1],
      codec: 'raw',
      codecMeta: {},
    }
    await assert.rejects(meshes[3].tensors.send(meshes[0].peerId, part, floats(1)), (err: Error) => {
      assert.equal(err.name, 'TransferRejectedError')
      assert.match(err.message, /foreign: .* is not a member of 'rej'/)
      return true
    })
    // tensors that are not sync messages are no business of this gate
    const other = { ...part, edge: 'h.0->h.1' }
    await meshes[3].tensors.send(meshes[0].peerId, other, floats(1))
  } finally {
    meshes[0].tensors.setGate(undefined)
  }
})
