/**
 * The flat all-reduce over real libp2p meshes on 127.0.0.1: 2, 3 and 4 members, lengths that do not
 * divide by the member count (fewer elements than members, one element, several pieces per chunk),
 * every member's result the same bits and equal to the float32 sum taken in member order.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { AtollMesh } from '@atoll/net'
import type { SyncGroup } from '../src/index.ts'
import {
  groupsOf,
  loopbackMeshes,
  rejections,
  sameBits,
  sequentialSum,
  spreadValues,
  stopMeshes,
} from './helpers.ts'

let meshes: AtollMesh[]

before(async () => {
  meshes = await loopbackMeshes(4)
})
after(async () => {
  await stopMeshes(meshes)
})

/** Runs one all-reduce of `length` elements on `groups` in `round`; every member's result. */
async function allReduceOnAll(groups: SyncGroup[], round: number, length: number): Promise<void> {
  const inputs = groups.map((_, i) => spreadValues(length, 1 + i + 7 * round))
  const results = await Promise.all(
    groups.map((g, i) => g.allReduce(round, inputs[i], { algorithm: 'flat' })),
  )
  const expected = sequentialSum(inputs)
  for (const [i, result] of results.entries()) {
    assert.equal(result.length, length)
    assert.ok(
      sameBits(result, expected),
      `member ${i} of ${groups.length}, ${length} elements: not the member-order sum`,
    )
  }
}

for (const members of [2, 3, 4]) {
  test(`flat all-reduce of ${members} members: every member gets the member-order sum, bit for bit`, async () => {
    // 16 elements a piece: a 1000-element tensor is several pieces per chunk, pipelined
    const groups = groupsOf(meshes.slice(0, members), { group: `flat-${members}`, pieceElements: 16 })
    const seen = groups.map(rejections)
    try {
      const lengths = [1, members - 1, members + 1, 2 * members + 1, 1000, 0]
      for (const [round, length] of lengths.entries()) await allReduceOnAll(groups, round, length)
      assert.deepEqual(seen.flat(), [])
    } finally {
      for (const g of groups) g.close()
    }
  })
}

test('the data can tell the member-order sum from another order (the bit check can fail)', () => {
  const inputs = [0, 1, 2, 3].map((i) => spreadValues(1000, 1 + i))
  const ring = sequentialSum([inputs[2], inputs[3], inputs[0], inputs[1]])
  assert.ok(!sameBits(sequentialSum(inputs), ring))
})

test('concurrent collectives of one round, told apart by name', async () => {
  const groups = groupsOf(meshes.slice(0, 3), { group: 'named', pieceElements: 8 })
  try {
    const a = groups.map((_, i) => spreadValues(50, 10 + i))
    const b = groups.map((_, i) => spreadValues(30, 20 + i))
    const results = await Promise.all(
      groups.flatMap((g, i) => [g.allReduce(0, a[i], { name: 'w' }), g.allReduce(0, b[i], { name: 'b' })]),
    )
    for (const [k, result] of results.entries()) {
      assert.ok(sameBits(result, sequentialSum(k % 2 === 0 ? a : b)), `result ${k}`)
    }
  } finally {
    for (const g of groups) g.close()
  }
})

test('a replica that is a round ahead: its messages wait for the round here', async () => {
  const groups = groupsOf(meshes.slice(0, 2), { group: 'ahead' })
  try {
    const inputs = [spreadValues(20, 1), spreadValues(20, 2)]
    const first = await Promise.all(groups.map((g, i) => g.allReduce(0, inputs[i])))
    // member 0 starts round 1, and member 1 has its message before it begins that round
    const arrived = new Promise<void>((resolve) => {
      const off = meshes[1].tensors.onMessage(({ header }) => {
        if (header.step !== 1) return
        off()
        resolve()
      })
    })
    const early = groups[0].allReduce(1, inputs[0])
    await arrived
    assert.equal(groups[1].round, 0)
    const late = groups[1].allReduce(1, inputs[1])
    const second = await Promise.all([early, late])
    for (const result of [...first, ...second]) assert.ok(sameBits(result, sequentialSum(inputs)))
  } finally {
    for (const g of groups) g.close()
  }
})
