/**
 * The pure parts: the time model and the choice it makes, the deadline formula, sync edges, and the
 * checks on a group's members, links and a collective's options.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { AtollMesh } from '@atoll/net'
import { allReduceSeconds } from '@atoll/sched'
import {
  chooseAllReduce,
  deadlineSeconds,
  InvalidSyncOptionError,
  NonFiniteInputError,
  parseSyncEdge,
  RoundOrderError,
  SyncGroup,
  syncEdge,
} from '../src/index.ts'
import { loopbackMeshes, stopMeshes, twoSiteLinks, uniformLinks } from './helpers.ts'

const peers = ['p0', 'p1', 'p2', 'p3']

test('equal links: flat, predicted as sched models a ring over them', () => {
  const choice = chooseAllReduce(peers, uniformLinks(peers, 1e8, 0.01), 4e6)
  assert.equal(choice.layout.algorithm, 'flat')
  assert.equal(choice.predictedSeconds, allReduceSeconds(4e6, 4, 1e8, 0.01))
})

test('two sites: hierarchical for a large tensor, led by the member with the fastest link across', () => {
  const links = twoSiteLinks(['p0', 'p1'], ['p2', 'p3'])
  links.push({ a: 'p1', b: 'p3', bandwidthBps: 5e7, rttSeconds: 0.04 }) // overrides the slower p1–p3 link
  const choice = chooseAllReduce(peers, links, 64e6)
  assert.equal(choice.layout.algorithm, 'hierarchical')
  assert.deepEqual(choice.layout.clusters, [
    [0, 1],
    [2, 3],
  ])
  assert.deepEqual(choice.layout.leaders, [0, 2], 'p1 and p3 still have a slow link each to the other site')
  // int8 makes the slow exchange 4× smaller: the prediction falls
  const int8 = chooseAllReduce(peers, links, 64e6, { wireRatio: 0.26 })
  assert.ok(int8.hierarchicalSeconds < choice.hierarchicalSeconds)
})

test('the deadline is slack × (predicted + messages × per-message cost) + floor', () => {
  assert.equal(deadlineSeconds(2, { slack: 3, floorSeconds: 1, messageSeconds: 0.01 }, 100), 3 * (2 + 1) + 1)
  assert.equal(deadlineSeconds(0.5), 3 * 0.5 + 2)
  assert.throws(() => deadlineSeconds(1, { slack: 0.5 }), InvalidSyncOptionError)
  assert.throws(
    () => deadlineSeconds(1, { floorSeconds: Number.NaN }),
    /floorSeconds: expected a finite number ≥ 0/,
  )
})

test('sync edges: written and read back; malformed ones name the field', () => {
  const address = { fingerprint: '0123abcd', phase: 'lag', chunk: 3, name: 'h.0/attn:w' } as const
  assert.deepEqual(parseSyncEdge(syncEdge(address)), address)
  assert.throws(() => parseSyncEdge('sync:0123abcd:zz:0:w'), /edge.phase: expected one of/)
  assert.throws(() => parseSyncEdge('sync:0123abcd:rs:-1:w'), /edge.chunk: expected/)
  assert.throws(() => parseSyncEdge('h.0->h.1'), /is not sync:/)
})

test('members and links are checked: this peer among them, no repeats, every pair measured', () => {
  assert.throws(() => chooseAllReduce(['a', 'a'], [], 4), /members\[1\]: a is listed twice/)
  assert.throws(
    () => chooseAllReduce(['a', 'b', 'c'], uniformLinks(['a', 'b']), 4),
    /expected a measured link between a and c/,
  )
  assert.throws(() => chooseAllReduce(['a', 'b'], [{ a: 'a', b: 'b', bandwidthBps: -1, rttSeconds: 0 }], 4))
  assert.throws(
    () => chooseAllReduce(['a', 'b'], uniformLinks(['a', 'b']), 4, { clusters: [['a'], ['c']] }),
    /c is not a member/,
  )
})

let meshes: AtollMesh[]
before(async () => {
  meshes = await loopbackMeshes(2)
})
after(async () => {
  await stopMeshes(meshes)
})

test("a collective's options and data are checked before anything is sent", async () => {
  const ids = meshes.map((m) => m.peerId)
  assert.throws(
    () => new SyncGroup({ mesh: meshes[0], group: 'g', members: [ids[1]], links: [] }),
    /expected this peer .* among them/,
  )
  const group = new SyncGroup({
    mesh: meshes[0],
    group: 'checks',
    members: ids,
    links: uniformLinks(ids),
    round: 5,
  })
  try {
    assert.throws(
      () => new SyncGroup({ mesh: meshes[0], group: 'checks', members: ids, links: uniformLinks(ids) }),
      /already has a SyncGroup/,
    )
    await assert.rejects(group.allReduce(4, new Float32Array(1)), RoundOrderError)
    await assert.rejects(
      group.allReduce(5, Float32Array.of(1, Number.POSITIVE_INFINITY)),
      NonFiniteInputError,
    )
    await assert.rejects(
      group.allReduce(5, new Float32Array(1), { compression: { codec: 'topk', ratio: 2 } }),
      /compression.ratio/,
    )
    await assert.rejects(
      group.allReduce(5, new Float32Array(1), { name: '' }),
      /name: expected 1 to 200 characters/,
    )
    assert.throws(() => group.exclude([ids[0]]), /cannot exclude itself/)
    assert.throws(() => group.exclude(['stranger']), /stranger is not a member/)
  } finally {
    group.close()
  }
})
