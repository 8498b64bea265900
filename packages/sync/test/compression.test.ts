/**
 * Compressed all-reduce over real meshes: int8 with a per-block scale lands within the codec's half
 * step of the exact sum; top-k keeps what it drops in each member's residuals and sends it in later
 * rounds, so over T rounds the results plus every residual add up to T times the exact sum. Either
 * way every member ends with the same bits.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { AtollMesh } from '@atoll/net'
import {
  groupsOf,
  loopbackMeshes,
  maxDifference,
  rejections,
  sameBits,
  sequentialSum,
  stopMeshes,
  twoSiteLinks,
} from './helpers.ts'

let meshes: AtollMesh[]

before(async () => {
  meshes = await loopbackMeshes(4)
})
after(async () => {
  await stopMeshes(meshes)
})

/** Values in [−1, 1), seeded. */
function unitValues(length: number, seed: number): Float32Array {
  let x = seed * 7919 + 1
  return Float32Array.from({ length }, () => {
    x = (x * 48271) % 2147483647
    return (x / 2147483647) * 2 - 1
  })
}

const maxAbs = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0)

test('int8: every member gets the same bits, within half a quantisation step per hop of the exact sum', async () => {
  const groups = groupsOf(meshes.slice(0, 3), { group: 'int8', pieceElements: 128 })
  const seen = groups.map(rejections)
  try {
    const inputs = groups.map((_, i) => unitValues(1000, i + 1))
    const options = { compression: { codec: 'int8', block: 64 } } as const
    const results = await Promise.all(groups.map((g, i) => g.allReduce(0, inputs[i], options)))
    const exact = sequentialSum(inputs)
    // each part sent to an owner, and the owner's sum sent back, is off by at most absmax / 254
    const bound = (inputs.reduce((s, x) => s + maxAbs(x), 0) + maxAbs(exact) * 1.01) / 254
    for (const [i, result] of results.entries()) {
      assert.ok(sameBits(result, results[0]), `member ${i}`)
      assert.ok(
        maxDifference(result, exact) <= bound,
        `member ${i}: ${maxDifference(result, exact)} > ${bound}`,
      )
    }
    assert.ok(!sameBits(results[0], exact), 'int8 changed the values (it was used)')
    assert.deepEqual(seen.flat(), [])
  } finally {
    for (const g of groups) g.close()
  }
})

test('top-k with error feedback: what a round drops is carried to the next, per member and name', async () => {
  const groups = groupsOf(meshes.slice(0, 3), { group: 'topk', pieceElements: 64 })
  try {
    const inputs = groups.map((_, i) => unitValues(600, 10 + i))
    const exact = sequentialSum(inputs)
    const options = { name: 'grad', compression: { codec: 'topk', ratio: 0.1 } } as const
    const total = new Float64Array(600)
    const rounds = 5
    for (let round = 0; round < rounds; round++) {
      const results = await Promise.all(groups.map((g, i) => g.allReduce(round, inputs[i], options)))
      for (const [i, result] of results.entries())
        assert.ok(sameBits(result, results[0]), `round ${round}, member ${i}`)
      const kept = results[0].filter((v) => v !== 0).length
      assert.ok(kept <= 0.1 * 600 + 10, `round ${round}: ${kept} non-zeros, top-k keeps about 60`)
      results[0].forEach((v, k) => {
        total[k] += v
      })
    }
    // Σ results + Σ residuals = T × exact: nothing dropped is lost, nothing counted twice
    const carried = new Float64Array(600)
    for (const g of groups) {
      const residuals = g.residuals('grad')
      assert.ok(residuals !== undefined)
      residuals.contribution.forEach((v, k) => {
        carried[k] += v + residuals.gathered[k]
      })
    }
    assert.ok(
      carried.some((v) => Math.abs(v) > 0.1),
      'the residuals hold what top-k dropped',
    )
    const worst = Math.max(...exact.map((v, k) => Math.abs(total[k] + carried[k] - rounds * v)))
    assert.ok(worst < 1e-4, `results + residuals are ${worst} from ${rounds} × the exact sum`)
  } finally {
    for (const g of groups) g.close()
  }
})

test('hierarchical with int8 between the sites: the same bits on all four members', async () => {
  const ids = meshes.map((m) => m.peerId)
  const links = twoSiteLinks([ids[0], ids[1]], [ids[2], ids[3]])
  const groups = groupsOf(meshes, { group: 'h-int8', links, pieceElements: 100 })
  try {
    const inputs = groups.map((_, i) => unitValues(777, 30 + i))
    const options = { algorithm: 'hierarchical', compression: { codec: 'int8' } } as const
    const results = await Promise.all(groups.map((g, i) => g.allReduce(0, inputs[i], options)))
    const exact = sequentialSum(inputs)
    for (const [i, result] of results.entries()) {
      assert.ok(sameBits(result, results[0]), `member ${i}`)
      assert.ok(maxDifference(result, exact) < 0.1, `member ${i}`)
    }
    assert.ok(!sameBits(results[0], exact))
  } finally {
    for (const g of groups) g.close()
  }
})
