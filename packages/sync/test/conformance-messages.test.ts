/**
 * Conformance, part 4: every algorithm, the same test. While the first round runs (replica 3 held
 * back, so that its own pieces are not yet sent), replica 0 is sent sync messages that do not belong
 * — from a peer that is no member, for another group, for a round far ahead, of the wrong shape,
 * holding NaN — and replica messages (state, catch-up) that do not either. Each is rejected with its
 * reason in replica 0's event log, and the round then completes with all four contributors and the
 * right result.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { HeaderFields } from '@atoll/compress'
import type { AtollMesh } from '@atoll/net'
import { parseSyncEdge, type SyncEvent } from '../src/index.ts'
import {
  ALGORITHMS,
  checkRounds,
  closeReplicas,
  quadratic,
  quadraticReplica,
  type Replica,
  roundEvents,
  train,
  until,
} from './conformance-harness.ts'
import { loopbackMeshes, sameBits, sequentialSum, stopMeshes, uniformLinks } from './helpers.ts'

let meshes: AtollMesh[]
const LONG = { floorSeconds: 10 }

before(async () => {
  meshes = await loopbackMeshes(5)
})
after(async () => {
  await stopMeshes(meshes)
})

/** The job, round and edge of the first sync message `mesh` receives for `group`. */
function firstSyncMessage(mesh: AtollMesh, group: string): Promise<{ step: number; edge: string }> {
  return new Promise((resolve) => {
    const off = mesh.tensors.onMessage(({ header }) => {
      if (header.job !== group || !header.edge.startsWith('sync:')) return
      off()
      resolve({ step: header.step, edge: header.edge })
    })
  })
}

const floats = (...values: number[]) => new Uint8Array(Float32Array.from(values).buffer)

/** Sends replica 0 the messages that must be refused; returns how many rejections they make. */
async function sendStrays(group: string, seen: { step: number; edge: string }): Promise<number> {
  const [, , , member, stranger] = meshes.map((m) => m.tensors)
  const target = meshes[0].peerId
  const { fingerprint, name } = parseSyncEdge(seen.edge)
  const part: HeaderFields = {
    job: group,
    step: seen.step,
    mb: 0,
    edge: `sync:${fingerprint}:rs:0:${name}`,
    dtype: 'float32',
    shape: [1],
    codec: 'raw',
    codecMeta: {},
  }
  const replica = { ...part, edge: `replica:result:${name}` }
  const sends = [
    stranger.send(target, part, floats(1)),
    member.send(target, { ...part, job: 'another-group' }, floats(1)),
    member.send(target, { ...part, step: seen.step + 5 }, floats(1)),
    member.send(target, { ...part, shape: [1000] }, new Uint8Array(4000)), // no chunk here is that long
    member.send(target, { ...part, shape: [2] }, floats(Number.NaN, 1)),
    stranger.send(target, replica, floats(1)),
    member.send(target, { ...replica, edge: 'replica:state:param/l0.bias' }, floats(1)),
    member.send(target, replica, floats(Number.POSITIVE_INFINITY)),
    member.send(target, { ...replica, edge: 'replica:bogus' }, floats(1)),
  ]
  await Promise.all(sends)
  return sends.length
}

function rejections(replica: Replica): string[] {
  return replica.events.flatMap((e: SyncEvent) =>
    e.kind === 'rejected' ? [`${e.channel} ${e.rejection}: ${e.reason}`] : [],
  )
}

for (const spec of ALGORITHMS) {
  test(`${spec.algorithm}: foreign and malformed messages are rejected with reasons, the round goes on`, async () => {
    const ids = meshes.slice(0, 4).map((m) => m.peerId)
    const group = `messages-${spec.algorithm}`
    const q = quadratic(4)
    const init = { group, members: ids, links: uniformLinks(meshes.map((m) => m.peerId)), deadline: LONG }
    const replicas = meshes.slice(0, 4).map((mesh) => quadraticReplica(mesh, spec, init))
    const sent: Float32Array[][] = []
    try {
      const first = firstSyncMessage(meshes[1], group)
      let strays = 0
      const held = first.then(async (seen) => {
        strays = await sendStrays(group, seen)
        await until([replicas[0]], () => rejections(replicas[0]).length >= strays)
      })
      await Promise.all(
        replicas.map((r, i) =>
          train(r, 0, 4, {
            lr: 0.2,
            backward: (rep, step) => {
              q.gradient(rep.params, i)
              if (step === 0) sent[i] = rep.params.map((p) => Float32Array.from(p.grad))
            },
            beforeStep: (_rep, step) => (i === 3 && step === 0 ? held : undefined),
            afterStep: (rep, step) => {
              if (spec.algorithm === 'ssgd' && step === 0) checkFirstStep(rep, sent)
            },
          }),
        ),
      )
      const reasons = rejections(replicas[0])
      assert.match(
        reasons.join('\n'),
        new RegExp(`collective foreign: ${meshes[4].peerId} is not a member of '${group}'`),
      )
      assert.match(reasons.join('\n'), /collective foreign: no sync group 'another-group' here/)
      assert.match(
        reasons.join('\n'),
        /collective foreign: round \d+ is beyond this round \(\d+\) and the next/,
      )
      assert.match(
        reasons.join('\n'),
        /collective foreign: rs chunk 0 piece 0 should be raw\[\d+\], is raw\[1000\]/,
      )
      assert.match(reasons.join('\n'), /collective malformed: element 0 is NaN/)
      assert.match(
        reasons.join('\n'),
        new RegExp(`replica foreign: ${meshes[4].peerId} is not a member of '${group}'`),
      )
      assert.match(reasons.join('\n'), /replica foreign: no state is awaited here/)
      assert.match(reasons.join('\n'), /replica malformed: element 0 of '.*' is Infinity/)
      assert.match(
        reasons.join('\n'),
        /replica malformed: edge 'replica:bogus' is not replica:<state\|result\|ask\|running>:<name>/,
      )
      checkRounds(replicas)
      for (const r of replicas)
        for (const e of roundEvents(r))
          assert.deepEqual([e.included, e.attempts, e.contributors], [true, 1, ids])
      if (spec.algorithm !== 'dreamddp')
        for (const r of replicas)
          for (const [k, p] of r.params.entries()) assert.ok(sameBits(p.value, replicas[0].params[k].value))
    } finally {
      closeReplicas(replicas)
    }
  })
}

/** S-SGD's first step from θ = 0: θ = −lr × (((g0 + g1) + g2) + g3) / 4, to the bit. */
function checkFirstStep(replica: Replica, grads: Float32Array[][]): void {
  replica.params.forEach((p, k) => {
    const mean = sequentialSum(grads.map((g) => g[k])).map((v) => v / 4)
    const expected = mean.map((g) => 0 - 0.2 * g)
    assert.ok(sameBits(p.value, expected), `${p.name} after the first step`)
  })
}
