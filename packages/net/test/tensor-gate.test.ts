/**
 * The tensor gate: a receiver refuses a message at its header (a job it does not run, a sender that is
 * not a member) before its payload allocator is called or a payload frame read; the sender is told why,
 * the receiver's failure listeners get TensorRefusedError, and the connection carries on. Real libp2p
 * nodes on 127.0.0.1: `a` and `c` send, `b` receives through a counting allocator.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { encodeMessage, type HeaderFields } from '@atoll/compress'
import {
  type AtollMesh,
  FrameReader,
  FrameWriter,
  TENSOR_PROTOCOL,
  type TensorFailure,
  type TensorGate,
  TensorRefusedError,
} from '../src/index.ts'
import { encodePreamble, newTransferId } from '../src/stripe.ts'
import { fields, loopbackMesh, nextMessage, pattern, sha256 } from './helpers.ts'

/** The receiver's pending-bytes bound: a refused tensor this large must leave room for the next one. */
const PENDING_BYTES = 24 << 20

let a: AtollMesh
let b: AtollMesh
let c: AtollMesh
/** Edges of the messages `b` allocated a payload for, asked its gate about, failed and delivered. */
const allocated: string[] = []
const asked: string[] = []
const failures: TensorFailure[] = []
const delivered: string[] = []

before(async () => {
  const allocate = (header: { edge: string; bytes: number }) => {
    allocated.push(header.edge)
    return new Uint8Array(header.bytes)
  }
  b = await loopbackMesh({ tensor: { maxPendingBytes: PENDING_BYTES, allocate } })
  a = await loopbackMesh()
  c = await loopbackMesh()
  await Promise.all([a.node.dial(b.node.getMultiaddrs()), c.node.dial(b.node.getMultiaddrs())])
  b.tensors.onFailure((f) => failures.push(f))
  b.tensors.onMessage((m) => delivered.push(m.header.edge))
})
after(async () => {
  await Promise.all([a.stop(100), b.stop(100), c.stop(100)])
})

/** Admits job `job` from `members` only, as a worker admits the jobs it runs; records what it was asked. */
function jobGate(job: string, members: string[]): TensorGate {
  return (header, from) => {
    asked.push(header.edge)
    if (header.job !== job) return `job '${header.job}' is not run here`
    if (!members.includes(from)) return `${from} is not a member of job '${job}'`
    return undefined
  }
}

function message(job: string, edge: string, bytes: number): HeaderFields {
  return { ...fields(edge, bytes), job }
}

const count = (list: string[], edge: string) => list.filter((e) => e === edge).length

/** What a sender sees when `b`'s gate refuses with `reason`. */
function refusedBy(reason: string) {
  return {
    name: 'TransferRejectedError',
    remoteName: 'TensorRefusedError',
    peer: b.peerId,
    message: `tensor refused by ${b.peerId}: ${reason} (TensorRefusedError)`,
  }
}

/** The one failure `b` reported for `edge`, which must be a refusal by its gate. */
function refusal(edge: string): TensorRefusedError {
  const matching = failures.filter((f) => f.header?.edge === edge)
  assert.equal(matching.length, 1, `failures reported for ${edge}`)
  const { error } = matching[0]
  assert.ok(error instanceof TensorRefusedError, `${error.name}: ${error.message}`)
  assert.equal(error.header.edge, edge)
  assert.equal(matching[0].from, error.from)
  return error
}

/** Sends `bytes` of job `job` from `sender` to `b` and checks they arrive unchanged. */
async function delivers(sender: AtollMesh, job: string, edge: string, bytes: number, streams?: number) {
  const payload = pattern(bytes, bytes + 7)
  const arrived = nextMessage(b, edge)
  await sender.tensors.send(b.node.peerId, message(job, edge, bytes), payload, { streams })
  const got = await arrived
  assert.equal(got.from, sender.peerId)
  assert.equal(got.header.job, job)
  assert.equal(sha256(got.payload), sha256(payload))
}

test('admitted messages arrive unchanged; the gate is asked once per message, striped or not', async () => {
  b.tensors.setGate(jobGate('train', [a.peerId]))
  await Promise.all([delivers(a, 'train', 'small', 1024), delivers(a, 'train', 'striped', (5 << 20) + 3, 3)])
  for (const edge of ['small', 'striped']) {
    assert.equal(count(asked, edge), 1, `gate calls for ${edge}`)
    assert.equal(count(allocated, edge), 1, `allocations for ${edge}`)
  }
})

test('a message for a job not run here is refused at its header, and the connection carries on', async () => {
  b.tensors.setGate(jobGate('train', [a.peerId]))
  const [connection] = a.node.getConnections(b.node.peerId)
  const refused = a.tensors.send(b.node.peerId, message('other', 'wrong-job', 4096), pattern(4096))
  await assert.rejects(refused, refusedBy("job 'other' is not run here"))
  const error = refusal('wrong-job')
  assert.equal(error.from, a.peerId)
  assert.equal(error.reason, "job 'other' is not run here")
  assert.equal(error.header.job, 'other')
  assert.equal(count(allocated, 'wrong-job'), 0)

  await delivers(a, 'train', 'after-refusal', 4096)
  assert.equal(count(delivered, 'wrong-job'), 0)
  assert.deepEqual(
    a.node.getConnections(b.node.peerId).map((conn) => conn.id),
    [connection.id],
  )
  assert.equal(connection.status, 'open')
})

test('a message from a peer that is not a member of the job is refused at its header', async () => {
  b.tensors.setGate(jobGate('train', [a.peerId]))
  const refused = c.tensors.send(b.node.peerId, message('train', 'stranger', 4096), pattern(4096))
  await assert.rejects(refused, refusedBy(`${c.peerId} is not a member of job 'train'`))
  assert.equal(refusal('stranger').from, c.peerId)
  assert.equal(count(allocated, 'stranger'), 0)
  await delivers(a, 'train', 'member', 4096)
  assert.equal(count(delivered, 'stranger'), 0)
})

test('a large striped tensor refused allocates nothing and leaves the pending bytes free', async () => {
  b.tensors.setGate(jobGate('train', [a.peerId]))
  const big = pattern(PENDING_BYTES)
  const refused = a.tensors.send(b.node.peerId, message('other', 'big-refused', big.byteLength), big, {
    streams: 4,
  })
  await assert.rejects(refused, refusedBy("job 'other' is not run here"))
  refusal('big-refused')
  // a second tensor of the whole pending bound fits only if the refused one holds none of it
  await delivers(a, 'train', 'big-admitted', PENDING_BYTES, 4)
  assert.equal(count(allocated, 'big-refused'), 0)
  assert.equal(count(asked, 'big-refused'), 1)
  assert.equal(count(delivered, 'big-refused'), 0)
  assert.equal(b.tensors.inFlight.receiving, 0)
})

test('every stripe of a refused transfer is refused, the gate asked once and nothing allocated', async () => {
  b.tensors.setGate(jobGate('train', [a.peerId]))
  const parts = 3
  const [head] = encodeMessage(message('other', 'stripes', 3 << 20), new Uint8Array(3 << 20))
  const id = newTransferId()
  /** Opens part `part` of the transfer (preamble and head, no payload) and returns the answer it gets. */
  const openPart = async (part: number) => {
    const stream = await a.node.dialProtocol(b.node.getMultiaddrs(), TENSOR_PROTOCOL)
    const reader = new FrameReader(stream)
    const writer = new FrameWriter(stream)
    await writer.write(encodePreamble(id, parts, part))
    await writer.write(head)
    const status = (await reader.expect('a status frame')).subarray()
    return { status: status[0], reason: JSON.parse(new TextDecoder().decode(status.subarray(1))) }
  }
  const refusedAnswer = {
    status: 1,
    reason: { name: 'TensorRefusedError', message: "job 'other' is not run here" },
  }
  // the first part is asked about; the others arrive after its refusal and are refused on its word
  assert.deepEqual(await openPart(0), refusedAnswer)
  assert.deepEqual(await Promise.all([openPart(2), openPart(1)]), [refusedAnswer, refusedAnswer])
  assert.equal(count(asked, 'stripes'), 1)
  assert.equal(count(allocated, 'stripes'), 0)
  refusal('stripes')
})

test('a gate that throws refuses, with its error message on one line, and the transport goes on', async () => {
  b.tensors.setGate(() => {
    throw new Error('membership table\nunavailable')
  })
  const refused = a.tensors.send(b.node.peerId, message('train', 'gate-threw', 16), pattern(16))
  await assert.rejects(refused, refusedBy('the tensor gate failed: Error: membership table unavailable'))
  assert.equal(refusal('gate-threw').reason, 'the tensor gate failed: Error: membership table unavailable')
  assert.equal(count(allocated, 'gate-threw'), 0)
  b.tensors.setGate(jobGate('train', [a.peerId]))
  await delivers(a, 'train', 'gate-fixed', 16)
})

test('removing the gate admits everything again', async () => {
  b.tensors.setGate(jobGate('train', [a.peerId]))
  await assert.rejects(
    c.tensors.send(b.node.peerId, message('other', 'before-removal', 64), pattern(64)),
    refusedBy("job 'other' is not run here"),
  )
  b.tensors.setGate(undefined)
  const askedBefore = asked.length
  await delivers(c, 'other', 'gate-removed', 64)
  await delivers(a, 'train', 'gate-removed-striped', 5 << 20, 2)
  assert.equal(asked.length, askedBefore)
})
