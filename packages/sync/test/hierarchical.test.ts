/**
 * Hierarchical all-reduce over real meshes: two sites of two members (fast inside, slow between, as
 * measured links say), clusters cut from the links or given; the result is the same bits on every
 * member and equals the flat sum up to float rounding (only the order of the additions differs).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { AtollMesh } from '@atoll/net'
import { chooseAllReduce } from '../src/index.ts'
import {
  groupsOf,
  loopbackMeshes,
  rejections,
  sameBits,
  sequentialSum,
  spreadValues,
  stopMeshes,
  twoSiteLinks,
} from './helpers.ts'

let meshes: AtollMesh[]
let ids: string[]

before(async () => {
  meshes = await loopbackMeshes(4)
  ids = meshes.map((m) => m.peerId)
})
after(async () => {
  await stopMeshes(meshes)
})

/**
 * Two float32 sums of the same n terms in different orders differ by at most the rounding of their
 * 2(n−1) additions, each at most 2^-24 of the magnitude sum at that element.
 */
function withinRounding(a: Float32Array, b: Float32Array, inputs: Float32Array[]): boolean {
  const additions = 2 * (inputs.length - 1)
  for (let k = 0; k < a.length; k++) {
    const magnitude = inputs.reduce((sum, x) => sum + Math.abs(x[k]), 0)
    if (Math.abs(a[k] - b[k]) > additions * 2 ** -24 * magnitude) return false
  }
  return true
}

/** Sites {0, 2} and {1, 3}: clusters that are not contiguous in member order. */
const sites = () => ({ a: [ids[0], ids[2]], b: [ids[1], ids[3]] })

test('the links cut the members into the two sites, and a large tensor goes hierarchical', () => {
  const { a, b } = sites()
  const choice = chooseAllReduce(ids, twoSiteLinks(a, b), 64 << 20)
  assert.equal(choice.layout.algorithm, 'hierarchical')
  assert.deepEqual(choice.layout.clusters, [
    [0, 2],
    [1, 3],
  ])
  assert.ok(choice.hierarchicalSeconds < choice.flatSeconds)
})

for (const clustersFrom of ['links', 'caller'] as const) {
  test(`hierarchical all-reduce (clusters from the ${clustersFrom}): same bits everywhere, the flat sum ± rounding`, async () => {
    const { a, b } = sites()
    const groups = groupsOf(meshes, {
      group: `h-${clustersFrom}`,
      links: twoSiteLinks(a, b),
      pieceElements: 32,
    })
    const seen = groups.map(rejections)
    const clusters = clustersFrom === 'caller' ? [a, b] : undefined
    try {
      for (const [round, length] of [1, 3, 5, 300].entries()) {
        const inputs = groups.map((_, i) => spreadValues(length, 100 * round + i))
        const options = { algorithm: 'hierarchical', clusters } as const
        const results = await Promise.all(groups.map((g, i) => g.allReduce(round, inputs[i], options)))
        const flat = sequentialSum(inputs)
        // each site sums in member order, then the sites' sums in cluster order
        const [x0, x1, x2, x3] = inputs
        const expected = sequentialSum([sequentialSum([x0, x2]), sequentialSum([x1, x3])])
        for (const [i, result] of results.entries()) {
          assert.ok(sameBits(result, expected), `member ${i}, ${length} elements: not (x0 + x2) + (x1 + x3)`)
          assert.ok(
            sameBits(result, results[0]),
            `member ${i}, ${length} elements: not the same bits as member 0`,
          )
          assert.ok(
            withinRounding(result, flat, inputs),
            `member ${i}, ${length} elements: too far from the flat sum`,
          )
        }
      }
      assert.deepEqual(seen.flat(), [])
    } finally {
      for (const g of groups) g.close()
    }
  })
}

test("'auto' picks hierarchical on these links for a large tensor and sums as the explicit choice does", async () => {
  const { a, b } = sites()
  const groups = groupsOf(meshes, { group: 'h-auto', links: twoSiteLinks(a, b), pieceElements: 4096 })
  try {
    const inputs = groups.map((_, i) => spreadValues(5000, 7 + i))
    const auto = await Promise.all(groups.map((g, i) => g.allReduce(0, inputs[i])))
    const explicit = await Promise.all(
      groups.map((g, i) => g.allReduce(1, inputs[i], { algorithm: 'hierarchical' })),
    )
    for (const [i, result] of auto.entries()) assert.ok(sameBits(result, explicit[i]), `member ${i}`)
    assert.ok(!sameBits(auto[0], sequentialSum(inputs)), 'the flat order would have given other bits')
  } finally {
    for (const g of groups) g.close()
  }
})
