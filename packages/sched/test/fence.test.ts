import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keepRatio } from '@atoll/compress'
import { gpt2, opCosts } from '@atoll/core'
import {
  DEFAULT_OVERHEADS,
  formatPlan,
  linearize,
  MIN_ACTIVATION_KEEP_RATIO,
  opCostsOfGraph,
  type Plan,
  parsePeers,
  planEven,
  planFence,
  planRandom,
  stageBusySeconds,
  transferSeconds,
  WIRE_BYTES_PER_KEPT,
} from '../src/index.ts'
import { chainModel, geo } from './topology.ts'

/** Every op placed exactly once, stages contiguous and in the linear order. */
function assertCovers(plan: Plan, opIds: string[]) {
  assert.deepEqual(
    plan.stages.flatMap((s) => s.ops),
    opIds,
  )
  for (const [k, e] of plan.edges.entries()) assert.deepEqual([e.from, e.to], [k, k + 1])
}

describe('OP-Fence', () => {
  const { peers, links } = geo(3, 4, { insideBps: 1.25e9, betweenBps: 12.5e6, flops: 1e12 })
  const ops = chainModel(12, { flops: 2e11, outputBytes: 25e6 })

  it('places one contiguous segment per site and beats the even split', () => {
    const plan = planFence({ peers, links, ops, microBatches: 8 })
    const even = planEven({ peers, links, ops, microBatches: 8 })
    assertCovers(
      plan,
      linearize(ops).ops.map((o) => o.id),
    )
    assertCovers(
      even,
      linearize(ops).ops.map((o) => o.id),
    )
    assert.equal(plan.clusters.length, 3)
    for (const s of plan.stages) {
      const cluster = plan.clusters[s.cluster].peers
      assert.ok(s.peers.every((p) => cluster.includes(p)))
    }
    assert.ok(plan.edges.filter((e) => e.crossesFence).length <= 2)
    assert.ok(plan.predicted.stepSeconds < even.predicted.stepSeconds / 2)
    assert.equal(even.stages.length, 12)
    assert.match(formatPlan(plan, even), /fence 0→1: 25.00 MB\/mb at 12.5 MB\/s, topk-fp16 keep/)
  })

  it('compresses only the fence edges that would be the bottleneck, by the AdaTopK rule', () => {
    const plan = planFence({ peers, links, ops, microBatches: 8 })
    // a link is hidden while its bytes take no longer than the slowest stage's time per micro-batch
    const target = Math.max(
      ...plan.stages.map((s) => stageBusySeconds(s.computeSeconds, s.ops.length, DEFAULT_OVERHEADS)),
    )
    const compressed = plan.edges.filter((e) => e.codec !== 'dense')
    assert.ok(compressed.length > 0)
    for (const e of plan.edges) {
      const wire = transferSeconds(e.bytes, e.bandwidthBps, 0)
      if (e.codec === 'dense') assert.ok(!e.crossesFence || wire <= target)
      else {
        assert.ok(e.crossesFence && wire > target)
        const want = keepRatio({
          bytes: e.bytes * WIRE_BYTES_PER_KEPT,
          bandwidthBps: e.bandwidthBps,
          targetSeconds: target,
          min: MIN_ACTIVATION_KEEP_RATIO,
        })
        assert.equal(e.keepRatio, want)
        assert.ok(e.keepRatio === MIN_ACTIVATION_KEEP_RATIO || e.seconds - e.rttSeconds / 2 <= target + 1e-9)
      }
    }
    const dense = planFence({ peers, links, ops, microBatches: 8 }, { adaTopK: false })
    assert.ok(dense.edges.every((e) => e.codec === 'dense'))
    assert.ok(plan.predicted.stepSeconds <= dense.predicted.stepSeconds)
  })

  it('minimises the slowest stage or transfer over every cut of the chain (brute force)', () => {
    // three single-peer sites of different speeds, equal links: the DP's cost is the estimator's
    const sites = geo(3, 1, { insideBps: 1e9, betweenBps: 1e7, flops: 1e12 })
    sites.peers.forEach((p, i) => {
      p.flops = [1e12, 3e12, 2e12][i]
    })
    const small = chainModel(5, {
      flops: (l) => [3e11, 1e12, 2e11, 8e11, 5e11][l],
      outputBytes: (l) => [1e6, 5e5, 2e6, 1e5, 1e6][l],
    })
    const plan = planFence({ ...sites, ops: small, microBatches: 4 }, { adaTopK: false, thresholdBps: 1e8 })
    const g = linearize(small)
    const speeds = plan.clusters.map((c) => sites.peers.find((p) => p.id === c.peers[0])!.flops)
    let best = Infinity
    const N = g.ops.length
    for (let a = 0; a <= N; a++) {
      for (let b = a; b <= N; b++) {
        const segs = [
          [0, a],
          [a, b],
          [b, N],
        ]
        const used = segs.map((s, k) => ({ s, k })).filter(({ s }) => s[1] > s[0])
        const slot = Math.max(
          ...used.map(({ s, k }, i) => {
            const compute = (g.work[s[1]] - g.work[s[0]]) / speeds[k]
            const busy = stageBusySeconds(compute, s[1] - s[0], DEFAULT_OVERHEADS)
            // the runtime sends a cut's bytes while the stage computes the next micro-batch
            return Math.max(busy, i + 1 < used.length ? transferSeconds(g.cutBytes[s[1]], 1e7, 0) : 0)
          }),
        )
        best = Math.min(best, slot)
      }
    }
    const planned = Math.max(
      ...plan.stages.map((s) => stageBusySeconds(s.computeSeconds, s.ops.length, DEFAULT_OVERHEADS)),
      ...plan.edges.map((e) => e.seconds - e.rttSeconds / 2),
    )
    assert.ok(Math.abs(planned - best) < 1e-12, `${planned} vs ${best}`)
  })

  it('gives each peer of a slow site a stage that computes something', () => {
    // two sites of two; the second site is 30× slower, so the cut leaves it the tail of the chain.
    // Counting ops, a tail of one layer (a MatMul and its activation, which computes nothing) has
    // one op for each of its peers, but only one of them can compute: the DP counts ops that compute
    const sites = geo(2, 2, { insideBps: 1.25e9, betweenBps: 1.25e7, flops: 1e12 })
    for (const p of sites.peers) if (p.id.startsWith('s1')) p.flops = 3e10
    const chain = chainModel(8, { flops: 1e10, outputBytes: 1e5 })
    const plan = planFence({ ...sites, ops: chain, microBatches: 2 }, { replicate: false })
    assert.equal(plan.clusters.length, 2)
    assert.equal(plan.stages.length, 4, formatPlan(plan))
    assert.ok(
      plan.stages.every((s) => s.computeSeconds > 0),
      plan.stages.map((s) => s.ops.join(' ')).join(' | '),
    )
  })

  it('splits a segment inside a cluster when a replica would not fit, and fails when nothing fits', () => {
    const heavy = chainModel(8, { flops: 1e12, paramBytes: 1e9, outputBytes: 1e6 })
    const tight = geo(1, 4, { insideBps: 1e9, betweenBps: 1e9, memoryBytes: 9e9 })
    const plan = planFence({ ...tight, ops: heavy, microBatches: 4 })
    assert.ok(plan.stages.length > 1)
    for (const s of plan.stages) assert.ok(s.memoryBytesPerPeer <= 9e9 && s.fitsMemory)
    const tiny = geo(1, 2, { insideBps: 1e9, betweenBps: 1e9, memoryBytes: 1e9 })
    assert.throws(() => planFence({ ...tiny, ops: heavy }), {
      name: 'InfeasiblePlanError',
      // the figures: 8 GB of parameters × 4, beside a peer's 1 GB
      message: /need 32\.0 GB before activations; a peer of each cluster has 's0p0' and 1 more: 1\.00 GB$/,
    })
    // a baseline is planned anyway, and says where it does not fit
    const even = planEven({ ...tiny, ops: heavy })
    assert.ok(even.stages.every((s) => !s.fitsMemory))
    assert.match(formatPlan(even), /MORE THAN THE PEER HAS/)
  })

  it("amortises the replicas' sync by the chosen algorithm and checks it", () => {
    const ssgd = planFence({ peers, links, ops })
    const local = planFence({ peers, links, ops }, { sync: { algorithm: 'local-sgd', period: 10 } })
    assert.deepEqual(local.sync, { algorithm: 'local-sgd', period: 10 })
    assert.deepEqual(ssgd.sync, { algorithm: 'ssgd', period: 1 })
    local.stages.forEach((s, i) => {
      assert.ok(Math.abs(s.syncSeconds - ssgd.stages[i].syncSeconds / 10) < 1e-12)
    })
    assert.throws(
      () => planFence({ peers, links, ops }, { sync: { algorithm: 'gossip' as 'ssgd', period: 1 } }),
      {
        name: 'InvalidFieldError',
        message: /^sync\.algorithm/,
      },
    )
  })

  it("solves each stage's DreamDDP schedule from its layer costs (FIFO model, by hand)", () => {
    // one site of two peers: one stage, replicated; per layer backward 0.1 s, all-reduce 0.2 s
    const site = geo(1, 2, { insideBps: 1e9, betweenBps: 1e9, flops: 1e12 })
    const layers = chainModel(2, { flops: 1e11, paramBytes: 2e8, outputBytes: 1e3 })
    const plan = (period: number) =>
      planFence(
        { ...site, links: site.links.map((l) => ({ ...l, rttSeconds: 0 })), ops: layers },
        // MatMul at the calibration rate, so that the hand figures below hold
        { sync: { algorithm: 'dreamddp', period }, efficiency: { MatMul: 1 } },
      ).stages
    const [every] = plan(1)
    assert.deepEqual(every.peers.length, 2)
    // backward ends h.1 at 0.1, h.0 at 0.2; h.1 syncs 0.1→0.3, h.0 0.3→0.5: 0.3 s past backward
    assert.deepEqual(every.syncSchedule, { 'h.1': [0], 'h.0': [0] })
    assert.ok(Math.abs(every.syncSeconds - 0.3) < 1e-9, `${every.syncSeconds}`)
    // H = 2: 0.3 s per period however the two are spread, so 0.15 s per step
    const [half] = plan(2)
    assert.ok(Math.abs(half.syncSeconds - 0.15) < 1e-9, `${half.syncSeconds}`)
    for (const its of Object.values(half.syncSchedule!)) assert.ok(its.every((h) => h === 0 || h === 1))
    assert.deepEqual(Object.keys(half.syncSchedule!).sort(), ['h.0', 'h.1'])
    assert.equal(planFence({ ...site, ops: layers }).stages[0].syncSchedule, undefined, 'S-SGD has none')
  })

  it('plans over a sparse link list, and refuses peers that no link joins', () => {
    // only each site's ring neighbours and one link between the sites are known
    const sparse = links.filter((l) => {
      const [a, b] = [l.a, l.b].map((id) => Number(id.slice(3)))
      const same = l.a.slice(0, 2) === l.b.slice(0, 2)
      return (same && Math.abs(a - b) === 1) || (!same && a === 0 && b === 0)
    })
    const plan = planFence({ peers, links: sparse, ops })
    assert.equal(plan.clusters.length, 3)
    assert.ok(Number.isFinite(plan.predicted.stepSeconds))
    const cut = sparse.filter((l) => l.a.slice(0, 2) === l.b.slice(0, 2) || !l.a.startsWith('s0'))
    assert.throws(() => planFence({ peers, links: cut, ops }), { name: 'InfeasiblePlanError' })
    // no links at all: not one cluster of peers that cannot talk (it used to predict 0 s of sync)
    assert.throws(() => planFence({ peers, links: [], ops }), { name: 'InfeasiblePlanError' })
  })

  it('plans a random baseline reproducibly', () => {
    const a = planRandom({ peers, links, ops }, { seed: 3 })
    const b = planRandom({ peers, links, ops }, { seed: 3 })
    assert.deepEqual(a, b)
    assertCovers(
      a,
      linearize(ops).ops.map((o) => o.id),
    )
  })

  it('plans a core GPT-2 from its op costs', () => {
    const model = gpt2({ config: 'tiny' })
    const costs = opCostsOfGraph(model.graph, { batch: 2 })
    assert.equal(costs.length, model.graph.nodes.length)
    const flops = costs.reduce((s, c) => s + c.flops, 0)
    assert.equal(flops, opCosts(model.graph, { batch: 2 }).total.flops)
    const plan = planFence({ peers, links, ops: costs })
    assertCovers(
      plan,
      linearize(costs).ops.map((o) => o.id),
    )
  })
})

describe('plan input validation', () => {
  it('names the bad field', () => {
    assert.throws(() => parsePeers([{ id: 'a', device: 'cpu', flops: -1, memoryBytes: 1 }]), {
      name: 'InvalidFieldError',
      message: /^peers\[0\]\.flops: expected a finite number > 0, found -1/,
    })
    const { peers, links } = geo(1, 2, { insideBps: 1, betweenBps: 1 })
    assert.throws(
      () => planFence({ peers, links: [{ ...links[0], rttSeconds: Number.NaN }], ops: chainModel(2) }),
      {
        name: 'InvalidFieldError',
        message: /^links\[0\]\.rttSeconds/,
      },
    )
    assert.throws(() => planFence({ peers, links, ops: chainModel(2), microBatches: 0 }), {
      message: /^microBatches/,
    })
  })
})
