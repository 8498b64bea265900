/**
 * DreamDDP beyond the conformance suite, over four real meshes: every layer is averaged at least once
 * a period on the schedule the replicas agreed on, and each period's layers and measured and
 * predicted wait are recorded; the schedule is solved again when the links' all-reduce times move
 * by more than 20 %, not when they move by less; an average applied after a local update keeps the
 * update (θ ← θ + (mean − θ_sent)).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { AtollMesh } from '@atoll/net'
import { zeroGrads } from '@atoll/runtime'
import type { PeriodEvent, ScheduleEvent } from '../src/index.ts'
import {
  closeReplicas,
  pseudoRandom,
  quadratic,
  quadraticReplica,
  type Replica,
  train,
} from './conformance-harness.ts'
import { loopbackMeshes, maxDifference, sequentialSum, stopMeshes, uniformLinks } from './helpers.ts'

let meshes: AtollMesh[]
let ids: string[]
const LONG = { floorSeconds: 10 }
const LAYERS = ['l2', 'l1', 'l0'] // backward order of the quadratic's parameters

before(async () => {
  meshes = await loopbackMeshes(4)
  ids = meshes.map((m) => m.peerId)
})
after(async () => {
  await stopMeshes(meshes)
})

function replicas(group: string, period: number, rttSeconds = 0.001): Replica[] {
  const links = uniformLinks(ids, 1e9, rttSeconds)
  const spec = { algorithm: 'dreamddp', period } as const
  return meshes.map((mesh) => quadraticReplica(mesh, spec, { group, members: ids, links, deadline: LONG }))
}

const schedules = (r: Replica) => r.events.filter((e): e is ScheduleEvent => e.kind === 'schedule')
const periods = (r: Replica) => r.events.filter((e): e is PeriodEvent => e.kind === 'period')

test('every layer is averaged at least once a period, as scheduled; waits measured and predicted', async () => {
  const group = replicas('dream-periods', 4)
  const q = quadratic(4)
  try {
    await Promise.all(
      group.map((r, i) => train(r, 0, 16, { lr: 0.2, backward: (rep) => q.gradient(rep.params, i) })),
    )
    for (const r of group) {
      const [first] = schedules(r)
      assert.equal(first.reason, 'first')
      assert.deepEqual(Object.keys(first.schedule), LAYERS)
      assert.deepEqual(schedules(r), schedules(group[0]), 'the same schedules everywhere')
      const done = periods(r)
      assert.deepEqual(
        done.map((p) => p.period),
        [0, 1, 2, 3],
      )
      for (const p of done) {
        assert.deepEqual([...new Set(p.layers.flat())].sort(), [...LAYERS].sort(), `period ${p.period}`)
        const solved = schedules(r)
          .filter((s) => s.period <= p.period)
          .at(-1) as ScheduleEvent
        for (const [i, layers] of p.layers.entries()) {
          const planned = LAYERS.filter((l) => solved.schedule[l].includes(i))
          assert.deepEqual(layers, planned, `period ${p.period}, iteration ${i}`)
        }
        assert.ok(p.predictedWaitSeconds >= 0 && Number.isFinite(p.predictedWaitSeconds))
        assert.ok(p.measuredWaitSeconds >= 0 && Number.isFinite(p.measuredWaitSeconds))
      }
    }
  } finally {
    closeReplicas(group)
  }
})

/** Steps with the parameters hook only: no compute window is measured, so only the links can move the schedule. */
async function steps(group: Replica[], from: number, to: number): Promise<void> {
  await Promise.all(
    group.map(async (r) => {
      for (let step = from; step < to; step++) await r.sync.parameters(step, r.params)
      await r.sync.settle()
    }),
  )
}

test('the schedule is solved again when the links move by more than 20 %, not by less', async () => {
  const group = replicas('dream-drift', 2, 0.01)
  try {
    await steps(group, 0, 2)
    for (const r of group) r.sync.updateLinks(uniformLinks(ids, 1e9, 0.011)) // +10 %
    await steps(group, 2, 4)
    for (const r of group) r.sync.updateLinks(uniformLinks(ids, 1e9, 0.02)) // ×2
    await steps(group, 4, 6)
    for (const r of group) {
      assert.deepEqual(
        schedules(r).map((s) => [s.period, s.reason]),
        [
          [0, 'first'],
          [2, 'drift'],
        ],
      )
    }
  } finally {
    closeReplicas(group)
  }
})

test('an average that lands after a local update keeps the update: θ ← θ + (mean − θ_sent)', async () => {
  const group = replicas('dream-overlap', 1)
  try {
    for (const [i, r] of group.entries())
      for (const [k, p] of r.params.entries()) p.value.set(pseudoRandom(p.value.length, 10 * i + k + 1))
    const sent = group.map((r) => r.params.map((p) => Float32Array.from(p.value)))
    await Promise.all(group.map((r) => r.sync.parameters(0, r.params))) // the averaging runs on
    for (const r of group) {
      zeroGrads(r.params)
      for (const p of r.params) p.grad.fill(1)
      r.optimizer.step(0.5) // a local update meanwhile: θ − 0.5 (momentum's first step is the gradient)
    }
    await Promise.all(group.map((r) => r.sync.settle()))
    for (const r of group) {
      for (const [k, p] of r.params.entries()) {
        const mean = sequentialSum(sent.map((s) => s[k])).map((v) => v / 4)
        assert.ok(
          maxDifference(
            p.value,
            mean.map((v) => v - 0.5),
          ) < 1e-6,
          p.name,
        )
      }
    }
  } finally {
    closeReplicas(group)
  }
})
