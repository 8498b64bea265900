import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decomposeTrainingOps, type Graph, gpt2, mlp, mnistCnn, partitionGraph } from '@atoll/core'
import {
  formatPlan,
  type JobPlacement,
  type JobPlacementInput,
  type LinkProfile,
  type PeerProfile,
  placeJob,
  planFence,
  transferSeconds,
} from '../src/index.ts'
import { chainModel, geo } from './topology.ts'

/** 1 Gbit/s and 20 Mbit/s in bytes per second. */
const INSIDE_BPS = 125e6
const BETWEEN_BPS = 2.5e6

/** Two sites of two peers, joined interleaved: A1, B1, A2, B2; `between` may single out a pair. */
function twoSites(options: { memoryBytes?: number; between?: (a: string, b: string) => number } = {}): {
  peers: PeerProfile[]
  links: LinkProfile[]
} {
  const ids = ['A1', 'B1', 'A2', 'B2']
  const peers = ids.map((id) => ({ id, device: 'cpu', flops: 2e10, memoryBytes: options.memoryBytes ?? 8e9 }))
  const links: LinkProfile[] = []
  for (const [i, a] of ids.entries()) {
    for (const b of ids.slice(i + 1)) {
      const same = a[0] === b[0]
      const between = options.between?.(a, b) ?? BETWEEN_BPS
      links.push({ a, b, bandwidthBps: same ? INSIDE_BPS : between, rttSeconds: same ? 0.0005 : 0.02 })
    }
  }
  return { peers, links }
}

const site = (peer: string) => peer[0]

const model = gpt2({ config: 'mini' })
const BINDINGS = { batch: 4 }

function job(overrides: Partial<JobPlacementInput> = {}): JobPlacementInput {
  return {
    loss: model.loss!,
    bindings: BINDINGS,
    microBatches: 4,
    ...twoSites(),
    placement: 'fence',
    compression: 'adatopk',
    ...overrides,
  }
}

/** The peers' sites along the chain, and how many edges cross from one site to the other. */
function crossings(placed: JobPlacement): number {
  const sites = placed.stages.map((s) => site(s.peer))
  const crossing = sites.slice(1).filter((s, k) => s !== sites[k]).length
  assert.equal(placed.plan.edges.filter((e) => e.crossesFence).length, crossing)
  return crossing
}

/**
 * The specs partition `graph` with core's partitionGraph, every node (of the graph it partitions:
 * training BatchNorm decomposed, the loss whole) listed once, in the stage that runs it; the loss's
 * primitives, which partitionGraph writes out, join the last stage with it.
 */
function assertPartitions(graph: Graph, loss: string, placed: JobPlacement, bindings = BINDINGS) {
  const listed = placed.stages.flatMap((s) => s.spec.nodes ?? [])
  const nodes = decomposeTrainingOps(graph, bindings, { loss: false }).nodes.map((n) => n.name)
  assert.deepEqual([...listed].sort(), nodes.sort())
  const partition = partitionGraph(graph, { loss, stages: placed.stages.map((s) => s.spec), bindings })
  assert.equal(partition.stages.length, placed.stages.length)
  for (const [i, stage] of partition.stages.entries()) {
    const spec = placed.stages[i].spec.nodes ?? []
    assert.deepEqual(stage.nodes.filter((n) => spec.includes(n)).sort(), [...spec].sort())
    const written = stage.nodes.filter((n) => !spec.includes(n))
    const last = i === partition.stages.length - 1
    assert.ok(
      last ? written.every((n) => n.includes('SoftmaxCrossEntropyLoss')) : written.length === 0,
      `${written}`,
    )
  }
  assert.ok(partition.stages.at(-1)!.activationsOut.includes(loss), 'the last stage computes the loss')
}

describe('placeJob', () => {
  it('places OP-Fence one peer per stage, crossing the slow fence once, faster than the even split', () => {
    const fence = placeJob(model.graph, job())
    const even = placeJob(model.graph, job({ placement: 'even' }))
    assert.equal(fence.plan.algorithm, 'op-fence')
    assert.deepEqual(fence.stages.map((s) => s.peer).sort(), ['A1', 'A2', 'B1', 'B2'])
    for (const s of fence.plan.stages) assert.equal(s.peers.length, 1)
    assert.equal(crossings(fence), 1)
    // even keeps the join order, so it goes back and forth over the fence
    assert.deepEqual(
      even.stages.map((s) => s.peer),
      ['A1', 'B1', 'A2', 'B2'],
    )
    assert.equal(crossings(even), 3)
    assert.ok(
      fence.plan.predicted.stepSeconds < even.plan.predicted.stepSeconds / 1.3,
      `${fence.plan.predicted.stepSeconds} vs ${even.plan.predicted.stepSeconds}`,
    )
  })

  it('compresses the fence edges by AdaTopK and names each boundary codec; none leaves them dense', () => {
    for (const placement of ['fence', 'even'] as const) {
      const placed = placeJob(model.graph, job({ placement }))
      assert.deepEqual(
        placed.boundaries,
        placed.plan.edges.map((e) => ({ from: e.from, to: e.to, codec: e.codec, keepRatio: e.keepRatio })),
      )
      // AdaTopK compresses a fence edge whose dense transfer outlasts the slowest stage's compute
      const target = Math.max(...placed.plan.stages.map((s) => s.computeSeconds))
      for (const e of placed.plan.edges) {
        const slow = e.crossesFence && transferSeconds(e.bytes, e.bandwidthBps, e.rttSeconds) > target
        if (!slow) assert.deepEqual([e.codec, e.keepRatio], ['dense', 1], `${placement} ${e.from}→${e.to}`)
        else
          assert.ok(e.codec === 'topk-fp16' && e.keepRatio > 0 && e.keepRatio < 1, `${placement} ${e.codec}`)
      }
      const dense = placeJob(model.graph, job({ placement, compression: 'none' }))
      assert.ok(dense.boundaries.every((b) => b.codec === 'dense' && b.keepRatio === 1))
      assert.ok(dense.plan.predicted.stepSeconds >= placed.plan.predicted.stepSeconds)
    }
    const even = placeJob(model.graph, job({ placement: 'even' }))
    // even crosses the fence three times; AdaTopK compresses those whose bytes would set the pace
    assert.equal(crossings(even), 3)
    for (const e of even.plan.edges) assert.ok(e.codec === 'dense' || e.crossesFence, `${e.from}→${e.to}`)
    const fp16 = placeJob(model.graph, job({ compression: { codec: 'fp16' } }))
    const topk = placeJob(
      model.graph,
      job({ placement: 'even', compression: { codec: 'topk-fp16', keep: 0.25 } }),
    )
    for (const [placed, codec, keep] of [
      [fp16, 'fp16', 1],
      [topk, 'topk-fp16', 0.25],
    ] as const) {
      for (const e of placed.plan.edges)
        assert.deepEqual([e.codec, e.keepRatio], e.crossesFence ? [codec, keep] : ['dense', 1])
    }
  })

  it('gives specs that partition the graph with core, covering every node', () => {
    for (const placement of ['fence', 'even', 'random'] as const) {
      assertPartitions(model.graph, model.loss!, placeJob(model.graph, job({ placement })))
    }
    // a CNN with training BatchNorm: costed as partitionGraph sees it, after the decomposition
    const cnn = mnistCnn()
    const placed = placeJob(cnn.graph, job({ loss: cnn.loss!, bindings: { batch: 8 } }))
    assert.equal(placed.stages.length, 4)
    assert.ok(placed.stages.some((s) => s.spec.nodes?.some((n) => n.startsWith('bw/bn1/'))))
    assertPartitions(cnn.graph, cnn.loss!, placed, { batch: 8 })
  })

  it('enters and leaves each site over its widest link across the fence', () => {
    // A2–B1 is the one fast pair across the sites: the fence edge runs between them
    const between = (a: string, b: string) => ([a, b].sort().join() === 'A2,B1' ? 10e6 : BETWEEN_BPS)
    const placed = placeJob(model.graph, job(twoSites({ between })))
    const fence = placed.plan.edges.find((e) => e.crossesFence)!
    assert.deepEqual([placed.stages[fence.from].peer, placed.stages[fence.to].peer].sort(), ['A2', 'B1'])
    assert.equal(fence.bandwidthBps, 10e6)
  })

  it('places explicit stages on the peers named, and prints them', () => {
    const stages = [
      { peer: 'B2', scopes: ['wte', 'wpe', 'h.0'] },
      { peer: 'B1', scopes: ['h.1'] },
      { peer: 'A1', scopes: ['h.2'] },
      { peer: 'A2', scopes: ['h.3', 'ln_f', 'lm_head'] },
    ]
    const placed = placeJob(model.graph, job({ placement: { stages } }))
    assert.equal(placed.plan.algorithm, 'explicit')
    assert.deepEqual(
      placed.stages.map((s) => s.peer),
      ['B2', 'B1', 'A1', 'A2'],
    )
    assert.deepEqual(placed.plan.stages[1].layers, ['h.1'])
    assert.equal(crossings(placed), 1)
    assertPartitions(model.graph, model.loss!, placed)
    const text = formatPlan(placed.plan)
    assert.match(text, /^explicit: 4 stage\(s\) on 2 cluster\(s\), 4 micro-batches/)
    assert.match(text, /predicted step \d+\.\d{3} s/)
    assert.match(text, /stage 1 \[cluster \d\]: layers h\.1 \(\d+ ops\) on B1/)
    assert.match(text, /fence 1→2: [\d.]+ MB\/mb at 2\.5 MB\/s, (dense|topk-fp16 keep [\d.]+ %)/)
  })

  it('names the stage and the fault of a bad explicit placement', () => {
    const good = () => [
      { peer: 'B2', scopes: ['wte', 'wpe', 'h.0'] },
      { peer: 'B1', scopes: ['h.1'] },
      { peer: 'A1', scopes: ['h.2'] },
      { peer: 'A2', scopes: ['h.3', 'ln_f', 'lm_head'] },
    ]
    const refused = (
      edit: (stages: ReturnType<typeof good>) => void,
      expected: { name: string; message: RegExp },
    ) => {
      const stages = good()
      edit(stages)
      assert.throws(() => placeJob(model.graph, job({ placement: { stages } })), expected)
    }
    refused((s) => (s[1].peer = 'C9'), {
      name: 'UnknownReferenceError',
      message: /^placement\.stages\[1\]\.peer: 'C9' is not a peer of the job \(A1, B1, A2, B2\)/,
    })
    refused((s) => (s[3].peer = 'B2'), {
      name: 'UnknownReferenceError',
      message: /^placement\.stages\[3\]\.peer: 'B2' already runs stage 0/,
    })
    refused((s) => s[2].scopes.push('h.9'), {
      name: 'UnmatchedScopeError',
      message:
        /^placement\.stages\[2\]\.scopes\[1\]: 'h\.9' matches no node of the graph \(its layers: wte, wpe, h\.0/,
    })
    refused(
      (s) => {
        s[1].scopes = ['h.2']
        s[2].scopes = ['h.1']
      },
      {
        name: 'StageOrderError',
        message: /^placement\.stages\[1\]: node '.+' reads the output of '.+', which stage 2 computes/,
      },
    )
    assert.throws(() => placeJob(model.graph, job({ placement: { stages: [] } })), {
      name: 'InvalidFieldError',
      message: /^placement/,
    })
  })

  it('refuses a plan that does not fit, naming the stage, its need and the peer memory', () => {
    const small = twoSites({ memoryBytes: 2e6 })
    assert.throws(() => placeJob(model.graph, job({ ...small, placement: 'even' })), {
      name: 'InsufficientMemoryError',
      message: /^stage \d \([^)]+\) needs [\d.]+ MB on its peer .*, but peer '[AB][12]' has 2\.00 MB$/,
    })
    const stages = [
      { peer: 'A1', scopes: ['wte', 'wpe', 'h.0', 'h.1'] },
      { peer: 'A2', scopes: ['h.2', 'h.3', 'ln_f', 'lm_head'] },
    ]
    assert.throws(() => placeJob(model.graph, job({ ...small, placement: { stages } })), {
      name: 'InsufficientMemoryError',
      message: /^stage 0 \(wte, wpe, h\.0, h\.1\) needs [\d.]+ MB .* but peer 'A1' has 2\.00 MB$/,
    })
    // OP-Fence searches only plans that fit, so it finds none
    assert.throws(() => placeJob(model.graph, job(small)), { name: 'InfeasiblePlanError' })
  })

  it('plans a seeded random placement reproducibly', () => {
    const a = placeJob(model.graph, job({ placement: 'random', seed: 7 }))
    const b = placeJob(model.graph, job({ placement: 'random', seed: 7 }))
    assert.equal(a.plan.algorithm, 'random')
    assert.deepEqual(a, b)
    const peers = a.stages.map((s) => s.peer)
    assert.equal(new Set(peers).size, peers.length)
  })

  it('checks its own fields', () => {
    assert.throws(() => placeJob(model.graph, job({ placement: 'round-robin' as 'even' })), {
      name: 'InvalidFieldError',
      message: /^placement: expected/,
    })
    assert.throws(() => placeJob(model.graph, job({ compression: { codec: 'topk-fp16', keep: 0 } })), {
      name: 'InvalidFieldError',
      message: /^compression/,
    })
    assert.throws(() => placeJob(model.graph, job({ loss: 'no-such-value' })), {
      name: 'InvalidFieldError',
      message: /^loss: expected a value a node of the graph computes, found "no-such-value"/,
    })
  })
})

describe('OP-Fence without replicas', () => {
  it('splits each site into one stage per peer, contiguous per site, balanced by compute', () => {
    const { peers, links } = geo(3, 3, { insideBps: 1.25e9, betweenBps: 12.5e6, flops: 1e12 })
    const ops = chainModel(18, { flops: 2e11, outputBytes: 25e6 })
    const plan = planFence({ peers, links, ops, microBatches: 8 }, { replicate: false })
    assert.equal(plan.stages.length, 9)
    assert.deepEqual(plan.stages.flatMap((s) => s.peers).sort(), peers.map((p) => p.id).sort())
    assert.deepEqual(
      plan.edges.map((e) => e.crossesFence),
      [false, false, true, false, false, true, false, false],
    )
    // 18 equal layers over 9 equal peers: two layers' compute each (a cut may fall after a
    // layer's activation, which computes nothing and sends as many bytes as its MatMul)
    for (const s of plan.stages)
      assert.ok(Math.abs(s.computeSeconds - plan.stages[0].computeSeconds) < 1e-12, `${s.layers}`)
    assert.ok(plan.stages.every((s) => s.ops.filter((id) => id.endsWith('.mm')).length === 2))
    // the default still replicates each site's segment on its peers
    const replicated = planFence({ peers, links, ops, microBatches: 8 })
    assert.ok(replicated.stages.some((s) => s.peers.length > 1))
  })
})

describe('placeJob with more peers than a segment has work for', () => {
  it('leaves peers idle rather than give one a stage that computes nothing', () => {
    // one site of 12 peers on fast links: an MLP has fewer ops that compute than that
    const ids = Array.from({ length: 12 }, (_, k) => `P${k}`)
    const peers = ids.map((id) => ({ id, device: 'cpu', flops: 2e10, memoryBytes: 8e9 }))
    const links = ids.flatMap((a, i) =>
      ids.slice(i + 1).map((b) => ({ a, b, bandwidthBps: INSIDE_BPS, rttSeconds: 0.0005 })),
    )
    const tiny = mlp()
    const placed = placeJob(tiny.graph, { ...job(), loss: tiny.loss!, peers, links })
    assert.ok(
      placed.stages.length >= 2 && placed.stages.length < ids.length,
      `${placed.stages.length} stages`,
    )
    assert.equal(new Set(placed.stages.map((s) => s.peer)).size, placed.stages.length, 'one stage a peer')
    const partition = partitionGraph(tiny.graph, {
      loss: tiny.loss!,
      bindings: BINDINGS,
      stages: placed.stages.map((s) => s.spec),
    })
    assert.equal(partition.stages.length, placed.stages.length)
  })
})

describe('placeJob for a job that synchronises replicas', () => {
  it("replicates each site's segment on the site's peers: two stages of two replicas, the fence crossed once", () => {
    const placed = placeJob(model.graph, job({ sync: { algorithm: 'ssgd', period: 1 } }))
    assert.equal(placed.stages.length, 2)
    for (const s of placed.stages) {
      assert.equal(s.peers.length, 2)
      assert.equal(new Set(s.peers.map(site)).size, 1, `a stage's replicas share a site: ${s.peers}`)
      assert.equal(s.peer, s.peers[0])
    }
    assert.notEqual(site(placed.stages[0].peer), site(placed.stages[1].peer))
    assertPartitions(model.graph, model.loss!, placed)
    // without sync, one peer a stage
    assert.ok(placeJob(model.graph, job()).stages.every((s) => s.peers.length === 1))
  })

  it('refuses replicas from a placement other than fence, and sites of different sizes', () => {
    assert.throws(
      () => placeJob(model.graph, job({ placement: 'even', sync: { algorithm: 'ssgd', period: 1 } })),
      {
        name: 'InvalidFieldError',
        message: /^placement: expected 'fence'/,
      },
    )
    // three peers in site A, one in B: stages of 3 and 1 replicas cannot form pipelines
    const three = twoSites()
    const uneven = {
      peers: [...three.peers, { id: 'A3', device: 'cpu', flops: 2e10, memoryBytes: 8e9 }],
      links: [
        ...three.links,
        ...three.peers.map((p) => ({
          a: p.id,
          b: 'A3',
          bandwidthBps: site(p.id) === 'A' ? INSIDE_BPS : BETWEEN_BPS,
          rttSeconds: site(p.id) === 'A' ? 0.0005 : 0.02,
        })),
      ],
    }
    const lonely = {
      ...uneven,
      peers: uneven.peers.filter((p) => p.id !== 'B2'),
      links: uneven.links.filter((l) => l.a !== 'B2' && l.b !== 'B2'),
    }
    assert.throws(() => placeJob(model.graph, job({ ...lonely, sync: { algorithm: 'ssgd', period: 1 } })), {
      name: 'InvalidFieldError',
      message: /^sync: expected clusters with as many peers each/,
    })
  })
})
