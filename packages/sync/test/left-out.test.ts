/**
 * A replica that starts a round long before the others finds every other member late. Alone, it
 * could not complete the round, so it names itself and sits the round out; the others, when they
 * come, exclude it and complete the round without it. Meanwhile it asks them for the outcome; each
 * says that the round runs there once it has started it, so the early replica waits for them (over
 * several of its windows, here because the last of them comes late) and takes their outcome: no one
 * diverges. The last member finds the others' retry waiting for it when it starts its first try,
 * and keeps it for its own retry.
 *
 * Before, each of these failed the round: the early replica named the others, and each found itself
 * named when it came and sat the round out; it gave up on the outcome after one window; and the last
 * member dropped the retry's messages, so its retry waited for them in vain.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { AtollMesh } from '@atoll/net'
import type { RoundEvent } from '../src/index.ts'
import {
  closeReplicas,
  explained,
  type Replica,
  quadraticReplica,
  roundEvents,
} from './conformance-harness.ts'
import { loopbackMeshes, noticesReaching, sameBits, stopMeshes, uniformLinks } from './helpers.ts'

let meshes: AtollMesh[]
/** The early replica's: its window for the outcome is about 4 × 0.3 s. */
const SHORT = { slack: 3, floorSeconds: 0.3 }
/** The others': they wait for each other as long as it takes here. */
const LONG = { floorSeconds: 10 }
/** When the last of the others starts the round: well after the early replica's first window. */
const LATE_MS = 4000

before(async () => {
  meshes = await loopbackMeshes(4)
})
after(async () => {
  await stopMeshes(meshes)
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

test('S-SGD: a replica far ahead of the others sits the round out and takes the outcome they complete later', async () => {
  const ids = meshes.map((m) => m.peerId)
  const links = uniformLinks(ids)
  const replicas = meshes.map((mesh, i) =>
    quadraticReplica(
      mesh,
      { algorithm: 'ssgd' },
      { group: 'far-ahead', members: ids, links, deadline: i === 2 ? SHORT : LONG },
    ),
  )
  try {
    await explained(replicas, () => farAhead(replicas))
  } finally {
    closeReplicas(replicas)
  }
})

async function farAhead(replicas: Replica[]): Promise<void> {
  const [a, b, early, last] = replicas
  for (const [i, r] of replicas.entries()) for (const p of r.params) p.grad.fill(i + 1)
  const step = (r: Replica) => r.sync.gradients(0, r.params)
  // two of the others start once the early replica has sat the round out (its notice has come)
  const noticed = noticesReaching(a.mesh, 1)
  const ahead = step(early)
  await noticed
  const soon = [step(a), step(b)]
  await sleep(LATE_MS)
  assert.deepEqual(roundEvents(early), [], 'the early replica still waits for the outcome')
  await Promise.all([...soon, step(last), ahead])

  const fields = (e: RoundEvent) => [e.round, e.included, e.caughtUp, e.contributors, e.excluded]
  const took = [a.id, b.id, last.id]
  assert.deepEqual(fields(roundEvents(early)[0]), [0, false, true, took, [early.id]])
  for (const r of [a, b, last]) {
    const [round] = roundEvents(r)
    assert.deepEqual(fields(round), [0, true, false, took, [early.id]])
    assert.equal(round.attempts, 2, 'the first attempt failed naming the early replica')
  }
  assert.deepEqual(
    early.events.filter((e) => e.kind === 'diverged'),
    [],
  )
  // S-SGD's left-out replica applies the others' mean gradient, (1 + 2 + 4) / 3
  for (const r of replicas)
    for (const [i, p] of r.params.entries()) {
      assert.ok(sameBits(p.grad, a.params[i].grad), `${r.id}: ${p.name}`)
      assert.ok(Math.abs(p.grad[0] - 7 / 3) < 1e-6)
    }
}
