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
import { expectedWait, solveSchedule } from '../src/algorithms/dreamddp-plan.ts'
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

test("a period's expected wait: each averaging iteration's max(0, C·c − W·w) over the measured variations", () => {
  const layout = { names: ['a', 'b', 'c'], params: [[0], [1], [2]], elements: [1, 1, 1] }
  const inputs = { windowSeconds: 4, commSeconds: [1, 2, 3] }
  const solved = { ...solveSchedule(layout, inputs, 2), layersAt: [[0, 2], [1]], waitPerIteration: [0, 0] }
  // iteration 0 (C = 4): as planned 0; 1.5× slower comm and a 0.9× window: 6 − 3.6 = 2.4
  // iteration 1 (C = 2): 0 either way (3 − 3.6 < 0): the period's expected wait is 2.4 / 2
  const variations = [
    { comm: 1, window: 1 },
    { comm: 1.5, window: 0.9 },
  ]
  assert.ok(Math.abs(expectedWait(solved, variations) - 1.2) < 1e-12)
  // nothing measured yet: the solver's deterministic wait
  // nothing measured yet: the model's own waits (given as 0 here)
  assert.equal(expectedWait(solved, []), 0)
})

test('without fill-in the averaging is spread over the period; with it, the room is filled', () => {
  const layout = { names: ['a', 'b', 'c', 'd'], params: [[0], [1], [2], [3]], elements: [1, 1, 1, 1] }
  // a 10 s window hides all four 1 s layers in any one iteration: wait alone would allow any split
  const inputs = { windowSeconds: 10, commSeconds: [1, 1, 1, 1] }
  const spread = solveSchedule(layout, inputs, 4, false)
  assert.deepEqual(
    spread.layersAt.map((ls) => ls.length),
    [1, 1, 1, 1],
  )
  assert.deepEqual(spread.waitPerIteration, [0, 0, 0, 0]) // under the real 10 s window
  // fill-in up to 80 % of the window: all four layers (4 s) fit in every iteration
  const filled = solveSchedule(layout, inputs, 4, true)
  assert.deepEqual(
    filled.layersAt.map((ls) => ls.length),
    [4, 4, 4, 4],
  )
  // a window too short to hide them: 6 s of layers in 4 iterations of 1 s each, the waits reported
  const tight = solveSchedule(layout, { windowSeconds: 0.5, commSeconds: [1.5, 1.5, 1.5, 1.5] }, 4, false)
  assert.deepEqual(tight.waitPerIteration, [1, 1, 1, 1])
})
