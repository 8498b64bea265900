/**
 * Conformance, part 2: every algorithm, the same test. Four replicas (real meshes on 127.0.0.1) train
 * on the quadratic; mid-run replica 3 is late (held back until the others have finished its next
 * round without it), replica 2 leaves at a round boundary, and a fifth replica joins and receives
 * the parameters, optimizer state and synchronizer state of a live one. No crash; every replica
 * records each of its rounds exactly once and the replicas agree on who contributed; the joiner's
 * state equals its donor's before its first step; the replicas still converge, and where the
 * algorithm keeps them equal (S-SGD every step, Local SGD and DiLoCo after an averaging) they are
 * equal to the bit.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { AtollMesh } from '@atoll/net'
import {
  ALGORITHMS,
  type AlgorithmInput,
  Barrier,
  checkRounds,
  closeReplicas,
  explained,
  type Quadratic,
  quadratic,
  quadraticReplica,
  type Replica,
  roundEvents,
  train,
  until,
} from './conformance-harness.ts'
import { loopbackMeshes, sameBits, stopMeshes, uniformLinks } from './helpers.ts'

let meshes: AtollMesh[]
/** Short enough that the late round costs about two seconds; long beside a round's ~0.1 s. */
const DEADLINE = { slack: 3, floorSeconds: 2 }
const STEPS = 32
const LATE = 9
const LEAVE = 15
const JOIN = 21

before(async () => {
  meshes = await loopbackMeshes(5)
})
after(async () => {
  await stopMeshes(meshes)
})

interface Snapshot {
  params: Float32Array[]
  optimizer: { steps: number; tensors: Map<string, Float32Array> }
  sync: Map<string, Float32Array>
}

function snapshot(replica: Replica): Snapshot {
  const state = replica.optimizer.exportState()
  const copy = (m: Map<string, { data: ArrayLike<number> } | Float32Array>) =>
    new Map([...m].map(([k, v]) => [k, Float32Array.from('data' in v ? v.data : v)]))
  return {
    params: replica.params.map((p) => Float32Array.from(p.value)),
    optimizer: { steps: state.steps, tensors: copy(state.tensors as Map<string, { data: Float32Array }>) },
    sync: copy(replica.sync.exportState().tensors),
  }
}

function assertSameState(a: Snapshot, b: Snapshot): void {
  for (const [i, p] of a.params.entries()) assert.ok(sameBits(p, b.params[i]), `parameter ${i}`)
  assert.equal(a.optimizer.steps, b.optimizer.steps)
  assert.deepEqual([...a.optimizer.tensors.keys()], [...b.optimizer.tensors.keys()])
  for (const [k, v] of a.optimizer.tensors)
    assert.ok(sameBits(v, b.optimizer.tensors.get(k) as Float32Array), k)
  assert.deepEqual([...a.sync.keys()].sort(), [...b.sync.keys()].sort())
  for (const [k, v] of a.sync) assert.ok(sameBits(v, b.sync.get(k) as Float32Array), k)
}

/** Runs the scenario; returns the replicas (the joiner last) and the joiner's and donor's states at the join. */
async function scenario(spec: AlgorithmInput, q: Quadratic) {
  const ids = meshes.map((m) => m.peerId)
  const links = uniformLinks(ids)
  const group = `membership-${spec.algorithm}`
  const init = { group, members: ids.slice(0, 4), links, deadline: DEADLINE }
  const replicas = meshes.slice(0, 4).map((mesh) => quadraticReplica(mesh, spec, init))
  const [, , leaver, late] = replicas
  const states: { donor?: Snapshot; joiner?: Snapshot } = {}
  let joiner: Replica | undefined
  let joined: Promise<void> | undefined
  const joinBarrier = new Barrier(3, () => {
    const live = replicas[0].sync
    joiner = quadraticReplica(meshes[4], spec, {
      ...init,
      members: [...live.members, ids[4]],
      round: live.round,
      joining: true,
    })
    const j = joiner
    joined = j.sync.receiveState(j).then(async ({ nextStep }) => {
      assert.equal(nextStep, JOIN + 1)
      states.joiner = snapshot(j)
      await train(j, nextStep, STEPS, { lr: 0.2, backward: (r) => q.gradient(r.params, 2) })
    })
  })
  const hooks = (centre: number) => ({
    lr: 0.2,
    backward: (r: Replica) => q.gradient(r.params, centre),
    beforeStep: async (r: Replica, step: number) => {
      if (r !== late || step !== LATE) return
      const round = late.sync.round
      const others = replicas.filter((o) => o !== late)
      await until(others, () => others.every((o) => roundEvents(o).some((e) => e.round === round)))
    },
    afterStep: async (r: Replica, step: number) => {
      if (step === LEAVE && r !== leaver) r.sync.leave(leaver.id)
      if (step !== JOIN || r === leaver) return
      await joinBarrier.arrive()
      await r.sync.admit(ids[4], { params: r.params, optimizer: r.optimizer, nextStep: JOIN + 1 })
      if (r === replicas[0]) states.donor = snapshot(r)
    },
  })
  const runs = replicas.map((r, i) => train(r, 0, r === leaver ? LEAVE + 1 : STEPS, hooks(i)))
  await explained(replicas, async () => {
    await Promise.all(runs)
    await joined // made at the join, once the runs are past it
  })
  return { replicas: [...replicas, joiner as Replica], states }
}

for (const spec of ALGORITHMS) {
  test(`${spec.algorithm}: a late, a leaving and a joining replica mid-run: nothing lost or applied twice`, async () => {
    const q = quadratic(4)
    const { replicas, states } = await scenario(spec, q)
    try {
      await explained(replicas, () => checkScenario(spec, q, replicas, states))
    } finally {
      closeReplicas(replicas)
    }
  })
}

function checkScenario(
  spec: AlgorithmInput,
  q: Quadratic,
  replicas: Replica[],
  states: { donor?: Snapshot; joiner?: Snapshot },
) {
  const [a, b, leaver, late, joiner] = replicas
  assert.ok(states.donor && states.joiner, 'the joiner received a state')
  assertSameState(states.donor, states.joiner)
  const byRound = checkRounds(replicas)
  // the late replica sat one round out; the others ran it without it
  const out = roundEvents(late).filter((e) => !e.included)
  assert.ok(out.length >= 1, 'the late replica was left out of a round')
  for (const e of byRound.get(out[0].round) ?? [])
    if (e.included) assert.ok(!e.contributors.includes(late.id))
  // on a stalled machine every member of that round may time out in turn, and then no one completed
  // it: there is no outcome to tell, and each kept its own values (nothing lost)
  const completed = (byRound.get(out[0].round) ?? []).some((e) => e.included)
  if (completed) assert.ok(out[0].caughtUp, 'the late replica was told the outcome of the round it missed')
  else for (const e of byRound.get(out[0].round) ?? []) assert.ok(!e.caughtUp, 'no outcome to tell')
  // after its leave, the leaver is in no round; after the join, the joiner is in the rounds
  const leaverLast = Math.max(...roundEvents(leaver).map((e) => e.round))
  for (const e of roundEvents(a)) if (e.round > leaverLast) assert.ok(!e.contributors.includes(leaver.id))
  const joinerFirst = roundEvents(joiner)[0].round
  assert.ok(roundEvents(a).some((e) => e.round >= joinerFirst && e.contributors.includes(joiner.id)))
  const active = [a, b, late, joiner]
  for (const r of active)
    assert.ok(q.suboptimality(r.params) < 0.02, `${spec.algorithm}: ${q.suboptimality(r.params)}`)
  if (spec.algorithm !== 'dreamddp') {
    for (const r of active)
      for (const [i, p] of r.params.entries())
        assert.ok(sameBits(p.value, a.params[i].value), `${r.id}: ${p.name}`)
  }
}
