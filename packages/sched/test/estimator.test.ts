import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  allReduceSeconds,
  calibrateEfficiency,
  checkPrediction,
  computeSeconds,
  layerOf,
  linearize,
  type OpCost,
  opWork,
  predictStep,
  topkCodecRatio,
  type Stage,
  stageMemoryBytes,
  syncSecondsPerStep,
  transferSeconds,
} from '../src/index.ts'

const op = (id: string, inputs: string[], outputBytes = 10, flops = 1): OpCost => ({
  id,
  opType: 'Add',
  scope: `h.${id}`,
  flops,
  paramBytes: 0,
  outputBytes,
  inputs,
})

describe('workload estimator', () => {
  it('times compute, transfers, all-reduce and memory by the documented formulas', () => {
    assert.equal(opWork({ ...op('a', []), opType: 'MatMul', flops: 100 }), 600) // fwd + 2× bwd at efficiency 0.5
    assert.equal(opWork({ ...op('a', []), flops: 100 }), 6000) // elementwise at efficiency 0.05
    assert.equal(opWork({ ...op('a', []), flops: 100 }, { efficiency: { Add: 0.5 } }), 600)
    assert.equal(computeSeconds(300, [100, 200]), 1)
    assert.equal(transferSeconds(1e6, 1e6, 0.1), 1.05)
    assert.equal(transferSeconds(1e6, 1e6, 0.1, 0.15), 0.2)
    assert.equal(allReduceSeconds(4e6, 4, 1e6, 0.01), 6 + 0.03)
    assert.equal(allReduceSeconds(4e6, 1, 1e6, 0.01), 0)
    assert.equal(stageMemoryBytes(100, 50, 2, 4), 400 + 100)
  })

  it('times data-parallel sync per step by algorithm', () => {
    const link = { bandwidthBps: 1e6, rttSeconds: 0 }
    assert.equal(syncSecondsPerStep({ algorithm: 'ssgd', period: 1 }, 4e6, 4, link, 1), 6)
    assert.equal(syncSecondsPerStep({ algorithm: 'local-sgd', period: 3 }, 4e6, 4, link, 1), 2)
    assert.equal(syncSecondsPerStep({ algorithm: 'diloco', period: 6 }, 4e6, 4, link, 1), 1)
    assert.equal(syncSecondsPerStep({ algorithm: 'dreamddp', period: 3 }, 4e6, 4, link, 0.5), 1.5)
    assert.equal(syncSecondsPerStep({ algorithm: 'dreamddp', period: 3 }, 4e6, 4, link, 5), 0)
  })

  it('predicts a 1F1B step: fill, then a slot per micro-batch set by a stage, a link or a round trip', () => {
    const stage = (index: number, computeSeconds: number, syncSeconds: number): Stage => ({
      index,
      cluster: 0,
      ops: [],
      layers: [],
      peers: [],
      computeSeconds,
      paramBytes: 0,
      memoryBytesPerPeer: 0,
      fitsMemory: true,
      syncSeconds,
    })
    const edge = { from: 0, to: 1, bytes: 1, crossesFence: true, bandwidthBps: 1, rttSeconds: 0 }
    const none = { microBatchSeconds: 0, opSeconds: 0, stepSeconds: 0 }
    // a micro-batch leaves stage 0 and is back after 2 + 2.5 + 2 s: with its own 1 s, a cycle of
    // 7.5 s, which three in flight cover at stage 1's pace of 2.5 s (1F1B's two would not); twice
    // that for a link's standing queue (IN_FLIGHT_SLACK), at most the 4 micro-batches
    const twoStages = [stage(0, 1, 0.5), stage(1, 2.5, 2)]
    const p = predictStep(twoStages, [{ ...edge, codec: 'dense', keepRatio: 1, seconds: 2 }], 4, [], none)
    assert.deepEqual(p.inFlight, [4, 1])
    assert.equal(p.slotSeconds, 2.5)
    assert.equal(p.bottleneck, 'stage 1 compute')
    assert.equal(p.breakdown.fillSeconds, 7.5)
    assert.equal(p.stepSeconds, 7.5 + 3 * 2.5 + 2)
    // with two micro-batches a step, both in flight share the cycle: 7.5 / 2 per slot
    const few = predictStep(twoStages, [{ ...edge, codec: 'dense', keepRatio: 1, seconds: 2 }], 2, [], none)
    assert.deepEqual(few.inFlight, [2, 1])
    assert.equal(few.slotSeconds, 3.75)
    assert.equal(few.bottleneck, 'stage 0 in-flight round trip')
    // the two stages' peers on one machine: their busy times add up (1 + 2.5 s a micro-batch)
    const hosts = new Map([
      ['p0', 'box'],
      ['p1', 'box'],
    ])
    const onPeers = twoStages.map((st, s) => ({ ...st, peers: [`p${s}`] }))
    const shared = predictStep(
      onPeers,
      [{ ...edge, codec: 'dense', keepRatio: 1, seconds: 2 }],
      4,
      [],
      none,
      hosts,
    )
    assert.equal(shared.slotSeconds, 3.5)
    assert.match(shared.bottleneck, /^host box compute/)
    const apart = new Map([...hosts, ['p1', 'other']])
    assert.equal(
      predictStep(onPeers, [{ ...edge, codec: 'dense', keepRatio: 1, seconds: 2 }], 4, [], none, apart)
        .slotSeconds,
      2.5,
    )
    // the runtime's fixed costs, the CPU of each stage's bytes (its one edge's byte, both ways: 2
    // bytes at 0.125 s) and a tied parameter's exchange after the last micro-batch
    const tied = [{ param: 'wte.weight', stages: [0, 1], bytes: 1, seconds: 1.5 }]
    const q = predictStep(twoStages, [{ ...edge, codec: 'dense', keepRatio: 1, seconds: 2 }], 4, tied, {
      microBatchSeconds: 0.25,
      opSeconds: 0,
      stepSeconds: 0.5,
      byteSeconds: 0.125,
    })
    assert.equal(q.slotSeconds, 3)
    assert.equal(q.breakdown.fillSeconds, 1.5 + 4 + 3)
    assert.equal(q.stepSeconds, 8.5 + 3 * 3 + 1.5 + 0.5 + 2)
    assert.equal(q.breakdown.tiedSeconds, 1.5)
    // three stages, a slow first link: its bytes on the wire set the pace, its latency does not
    const slow = { ...edge, codec: 'dense' as const, keepRatio: 1, rttSeconds: 0.2, seconds: 1.1 }
    const fast = { ...slow, from: 1, to: 2, rttSeconds: 0, seconds: 0.01 }
    const r = predictStep([stage(0, 0.1, 0), stage(1, 0.1, 0), stage(2, 0.1, 0)], [slow, fast], 8, [], none)
    assert.equal(r.bottleneck, 'edge 0→1')
    assert.ok(Math.abs(r.slotSeconds - 1) < 1e-12)
    const p17 = { ...p, stepSeconds: 17 }
    assert.deepEqual(checkPrediction(p17, [20, 10, 34, Number.NaN]), {
      predictedSeconds: 17,
      measuredMedianSeconds: 20,
      relativeError: -0.15,
    })
    assert.throws(() => checkPrediction(p17, []), { name: 'InvalidFieldError' })
  })

  it('prices top-k + fp16 by its wire format: 2 bytes a value and a 1-byte index gap, more for wider gaps', () => {
    assert.equal(topkCodecRatio(0.2), 0.2 * 0.75)
    assert.equal(topkCodecRatio(1 / 100), 0.01 * 0.75)
    // a mean gap of 1000 needs a 2-byte varint
    assert.equal(topkCodecRatio(1 / 1000), 0.001)
    assert.equal(topkCodecRatio(1), 1)
  })

  it('calibrates per-op-type efficiency as the median achieved fraction', () => {
    const eff = calibrateEfficiency([
      { opType: 'MatMul', flops: 100, seconds: 1, peerFlops: 200 },
      { opType: 'MatMul', flops: 100, seconds: 1, peerFlops: 125 },
      { opType: 'MatMul', flops: 100, seconds: 1, peerFlops: 1000 },
      { opType: 'Add', flops: 10, seconds: 1, peerFlops: 100 },
    ])
    assert.deepEqual(eff, { MatMul: 0.5, Add: 0.1 })
  })
})

describe('linearize', () => {
  it('orders ops topologically and counts every value live across a cut', () => {
    // a → b → c, and a → c (a skip connection): the cut before c carries a and b
    const g = linearize([op('c', ['b', 'a'], 1), op('a', [], 100), op('b', ['a'], 10)])
    assert.deepEqual(
      g.ops.map((o) => o.id),
      ['a', 'b', 'c'],
    )
    assert.deepEqual([...g.cutBytes], [0, 100, 110, 0])
    assert.deepEqual([...g.work], [0, 60, 120, 180]) // elementwise: 3 × 1 FLOP at efficiency 0.05
  })

  it('rejects cycles and dangling inputs with typed errors', () => {
    assert.throws(() => linearize([op('a', ['b']), op('b', ['a'])]), { name: 'CyclicGraphError' })
    assert.throws(() => linearize([op('a', ['zz'])]), { name: 'UnknownReferenceError', message: /zz/ })
    assert.throws(() => linearize([op('a', []), op('a', [])]), { name: 'UnknownReferenceError' })
  })

  it('groups scopes into layers', () => {
    assert.equal(layerOf('h.3.attn.c_attn'), 'h.3')
    assert.equal(layerOf('ln_f'), 'ln_f')
    assert.equal(layerOf('model.layers.7.mlp'), 'model.layers.7')
    assert.equal(layerOf(''), '(none)')
  })
})
