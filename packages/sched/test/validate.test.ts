import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  checkSync,
  parseLayerTimes,
  parseLinks,
  parseOpCosts,
  parsePeers,
  parsePlanInput,
  parseReferenceSchedule,
  planDreamDdp,
  planEven,
  planFence,
  planRandom,
  syncProblem,
} from '../src/index.ts'
import { chainModel, geo } from './topology.ts'

const peer = { id: 'a', device: 'cpu', flops: 1e12, memoryBytes: 1e9 }
const link = { a: 'a', b: 'b', bandwidthBps: 1e9, rttSeconds: 0.01 }
const op = { id: 'm', opType: 'MatMul', scope: 'h.0', flops: 1, paramBytes: 0, outputBytes: 4 }

/** Asserts an InvalidFieldError whose message is exactly `message` and whose field is its path. */
function refuses(run: () => unknown, message: string): void {
  assert.throws(run, (err: Error & { field?: string }) => {
    assert.equal(err.name, 'InvalidFieldError')
    assert.equal(err.message, message)
    assert.ok(message.startsWith(`${err.field}: `), `field ${err.field}`)
    return true
  })
}

describe('plan inputs from files', () => {
  it('parse to typed profiles, dropping fields they do not declare, defaulting op inputs', () => {
    assert.deepEqual(parsePeers([{ ...peer, colour: 'red' }]), [peer])
    assert.deepEqual(parseLinks([link]), [link])
    assert.deepEqual(parseOpCosts([op]), [{ ...op, inputs: [] }])
  })

  it('name the file, the field, what was expected and what was found', () => {
    refuses(
      () => parsePeers([], 'peers.json'),
      'peers.json: expected a list of at least 1 item, found a list of 0 items',
    )
    refuses(() => parsePeers({ peers: [] }), 'peers: expected a list of at least 1 item, found an object')
    refuses(
      () => parsePeers([{ ...peer, id: '' }]),
      'peers[0].id: expected a string of at least 1 character, found ""',
    )
    refuses(
      () => parsePeers([{ ...peer, memoryBytes: undefined }]),
      'peers[0].memoryBytes: expected a finite number > 0, found nothing',
    )
    refuses(
      () => parseLinks([link, { ...link, rttSeconds: -1 }], 'links.json'),
      'links.json[1].rttSeconds: expected a finite number ≥ 0, found -1',
    )
    refuses(
      () => parseLinks([{ ...link, bandwidthBps: '1gbit' }]),
      'links[0].bandwidthBps: expected a finite number > 0, found "1gbit"',
    )
    refuses(
      () => parseOpCosts([{ ...op, inputs: ['x', 3] }]),
      'ops[0].inputs[1]: expected a string of at least 1 character, found 3',
    )
    refuses(
      () => parseOpCosts([{ ...op, flops: null }]),
      'ops[0].flops: expected a finite number ≥ 0, found null',
    )
  })
})

describe('plan inputs built in code', () => {
  const { peers, links } = geo(1, 2, { insideBps: 1e9, betweenBps: 1e9 })
  const ops = chainModel(2)

  it('are parsed with the same rules and messages, defaulting micro-batches', () => {
    assert.deepEqual(parsePlanInput({ peers, links, ops, microBatches: 4 }), {
      peers,
      links,
      ops,
      microBatches: 4,
    })
    assert.equal(parsePlanInput({ peers, links, ops }).microBatches, 8)
    refuses(
      () => parsePlanInput({ peers, links: [{ ...links[0], bandwidthBps: Number.POSITIVE_INFINITY }], ops }),
      'links[0].bandwidthBps: expected a finite number > 0, found Infinity',
    )
    refuses(
      () => parsePlanInput({ peers: [], links, ops }),
      'peers: expected a list of at least 1 item, found a list of 0 items',
    )
    refuses(
      () => parsePlanInput({ peers, links, ops: [{ ...ops[0], scope: 3 }] }),
      'ops[0].scope: expected a string, found 3',
    )
    refuses(
      () => parsePlanInput({ peers, links, ops, microBatches: 2.5 }),
      'microBatches: expected an integer ≥ 1, found 2.5',
    )
  })

  it('are planned from their parsed value: ops without inputs read none (the default)', () => {
    const bare = ops.map(({ inputs, ...op }) => op)
    const withInputs = ops.map((op) => ({ ...op, inputs: [] }))
    for (const plan of [planFence, planEven, planRandom]) {
      assert.deepEqual(plan({ peers, links, ops: bare }), plan({ peers, links, ops: withInputs }))
    }
  })

  it('a sync choice is a known algorithm with a whole period; S-SGD has period 1', () => {
    assert.deepEqual(checkSync(undefined), { algorithm: 'ssgd', period: 1 })
    assert.deepEqual(checkSync({ algorithm: 'ssgd', period: 7 }), { algorithm: 'ssgd', period: 1 })
    assert.deepEqual(checkSync({ algorithm: 'diloco', period: 100 }), { algorithm: 'diloco', period: 100 })
    refuses(
      () => checkSync({ algorithm: 'gossip' as 'ssgd', period: 1 }),
      'sync.algorithm: expected one of "ssgd", "local-sgd", "diloco", "dreamddp", found "gossip"',
    )
    refuses(
      () => checkSync({ algorithm: 'local-sgd', period: 0 }),
      'sync.period: expected an integer ≥ 1, found 0',
    )
  })
})

describe('DreamDDP inputs', () => {
  it('a problem has one time per layer in bp and comm, finite and ≥ 0, and a period in [1, 255]', () => {
    const problem = { names: ['a', 'b'], bp: [1, 1], comm: [1, 1], period: 2 }
    refuses(
      () => planDreamDdp({ ...problem, comm: [1] }),
      'comm: expected 2 numbers (one per layer), found a list of 1 item',
    )
    refuses(() => planDreamDdp({ ...problem, bp: [1, -2] }), 'bp[1]: expected a finite number ≥ 0, found -2')
    refuses(
      () => planDreamDdp({ ...problem, tail: Number.NaN }),
      'tail: expected a finite number ≥ 0, found NaN',
    )
    refuses(
      () => planDreamDdp({ ...problem, period: 256 }),
      'period: expected an integer in [1, 255], found 256',
    )
    refuses(() => syncProblem({ a: 1 }, { a: 1 }, 0.5), 'period: expected an integer in [1, 255], found 0.5')
  })

  it('profile files name the file and the layer', () => {
    refuses(() => parseLayerTimes('[1]', 'bp.json'), 'bp.json: expected an object, found a list of 1 item')
    refuses(
      () => parseLayerTimes('{"h.0.attn": "fast"}', 'comm.json'),
      'comm.json["h.0.attn"]: expected seconds, a finite number ≥ 0 (or NaN), found "fast"',
    )
    const problem = syncProblem({ a: 1, b: 1 }, { a: 1, b: 1 }, 2)
    refuses(
      () => parseReferenceSchedule({ H: 2, schedule: { a: 0 } }, problem, 'ref.json'),
      'ref.json.schedule.b: expected an integer in [0, 2) or a list, found nothing',
    )
    refuses(
      () => parseReferenceSchedule({ H: 2, schedule: { a: 0, b: [0, 'one'] } }, problem, 'ref.json'),
      'ref.json.schedule.b[1]: expected an integer in [0, 2), found "one"',
    )
  })
})
