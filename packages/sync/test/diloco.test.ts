/**
 * DiLoCo's outer step over four real meshes, against the formula computed here: after H inner steps,
 * Δ̄ = (((Δ0 + Δ1) + Δ2) + Δ3) / 4 with Δi = θ_start − θ_i, the momentum b = Δ̄ (PyTorch's first
 * step), θ_start ← θ_start − lr (Δ̄ + μ b), every replica restarting from θ_start — to the bit. With
 * int8 pseudo-gradients the anchor is within int8's error of the exact one.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { AtollMesh } from '@atoll/net'
import { sgd, zeroGrads } from '@atoll/runtime'
import { closeReplicas, quadratic, quadraticParams, type Replica, replicaOn } from './conformance-harness.ts'
import {
  loopbackMeshes,
  maxDifference,
  sameBits,
  sequentialSum,
  stopMeshes,
  uniformLinks,
} from './helpers.ts'

let meshes: AtollMesh[]
const OUTER = { lr: 0.7, momentum: 0.9 }

before(async () => {
  meshes = await loopbackMeshes(4)
})
after(async () => {
  await stopMeshes(meshes)
})

/** Two inner steps of plain SGD on each replica's quadratic, then the outer round; the local parameters before it. */
async function oneRound(group: Replica[]): Promise<Float32Array[][]> {
  const q = quadratic(4)
  const local: Float32Array[][] = []
  await Promise.all(
    group.map(async (r, i) => {
      for (let step = 0; step < 2; step++) {
        zeroGrads(r.params)
        q.gradient(r.params, i)
        await r.sync.gradients(step, r.params)
        r.optimizer.step(0.2)
        if (step === 1) local[i] = r.params.map((p) => Float32Array.from(p.value))
        await r.sync.parameters(step, r.params)
      }
    }),
  )
  return local
}

function replicas(group: string, int8PseudoGradients: boolean): Replica[] {
  const ids = meshes.map((m) => m.peerId)
  const spec = { algorithm: 'diloco', period: 2, outer: OUTER, int8PseudoGradients } as const
  return meshes.map((mesh) => {
    const params = quadraticParams() // θ_start = 0
    const init = {
      group,
      members: ids,
      links: uniformLinks(ids),
      params,
      optimizer: sgd(params),
      deadline: { floorSeconds: 10 },
    }
    return replicaOn(mesh, spec, init)
  })
}

/** The anchor and momentum the formula gives from the replicas' local parameters (θ_start = 0). */
function expected(local: Float32Array[][], k: number) {
  const mean = sequentialSum(local.map((l) => l[k].map((v) => 0 - v))).map((v) => v / 4)
  const anchor = mean.map((d) => 0 - OUTER.lr * Math.fround(d + OUTER.momentum * d))
  return { mean, anchor }
}

test('the outer Nesterov step on the mean pseudo-gradient, to the bit; every replica restarts from the anchor', async () => {
  const group = replicas('diloco-exact', false)
  try {
    const local = await oneRound(group)
    for (const r of group) {
      const state = r.sync.exportState().tensors
      for (const [k, p] of r.params.entries()) {
        const { mean, anchor } = expected(local, k)
        assert.ok(sameBits(p.value, anchor), `${p.name}: θ = θ_start`)
        assert.ok(sameBits(state.get(`${p.name}.outer_anchor`) as Float32Array, anchor))
        assert.ok(sameBits(state.get(`${p.name}.outer_momentum`) as Float32Array, mean))
      }
    }
  } finally {
    closeReplicas(group)
  }
})

test('int8 pseudo-gradients: the anchor within int8 error of the exact one', async () => {
  const group = replicas('diloco-int8', true)
  try {
    const local = await oneRound(group)
    for (const [k, p] of group[0].params.entries()) {
      const { anchor } = expected(local, k)
      const scale = Math.max(...anchor.map(Math.abs))
      assert.ok(maxDifference(p.value, anchor) < 0.02 * scale, p.name)
      assert.ok(maxDifference(p.value, anchor) > 0, 'int8 did change something')
    }
  } finally {
    closeReplicas(group)
  }
})
