import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { type AtollMesh, floorMethod, probeRunMethod } from '../src/index.ts'
import { loopbackMesh } from './helpers.ts'

let a: AtollMesh
let b: AtollMesh
let c: AtollMesh
const LEASE_MS = 20_000

before(async () => {
  ;[a, b, c] = await Promise.all([0, 1, 2].map(() => loopbackMesh({ probe: { seconds: 0.2 } })))
  await Promise.all([a.node.dial(b.node.getMultiaddrs()), a.node.dial(c.node.getMultiaddrs())])
  await b.node.dial(c.node.getMultiaddrs())
})
after(async () => {
  await Promise.all([a.stop(100), b.stop(100), c.stop(100)])
})

test('floor: a node that granted the floor refuses it to anyone else until it is released', async () => {
  const held = await a.floor.acquire([b.node.peerId, c.node.peerId], LEASE_MS)
  assert.ok(held, 'a gets the floor of a quiet mesh')
  assert.equal(b.floor.blockedBy(), a.peerId)
  assert.equal(c.floor.blockedBy(), a.peerId)
  // c granted it to a, so c does not even ask; b asks c (and a), who refuse
  assert.equal(await c.floor.acquire([a.node.peerId, b.node.peerId], LEASE_MS), undefined)
  assert.equal(await b.floor.acquire([a.node.peerId, c.node.peerId], LEASE_MS), undefined)
  const answer = await b.ctrl.call(c.node.peerId, floorMethod, { ms: LEASE_MS, priority: false })
  assert.deepEqual(answer, { granted: false, holder: a.peerId })

  const freed = b.floor.whenFree()
  await held.release()
  await freed
  assert.equal(b.floor.blockedBy(), undefined)
  const next = await c.floor.acquire([a.node.peerId, b.node.peerId], LEASE_MS)
  assert.ok(next, 'c gets the floor once a gave it back')
  await next.release()
})

test('floor: a priority asker is next in line; background askers wait for its turn', async () => {
  const background = await a.floor.acquire([b.node.peerId], LEASE_MS)
  assert.ok(background)
  // c measures: b refuses while a holds its floor, and keeps it for c
  assert.equal(await c.floor.acquire([b.node.peerId], LEASE_MS, { priority: true }), undefined)
  await background.release()
  assert.equal(b.floor.blockedBy(), c.peerId)
  assert.equal(await a.floor.acquire([b.node.peerId], LEASE_MS), undefined, 'a may not jump the line')
  const measuring = await c.floor.acquire([b.node.peerId], LEASE_MS, { priority: true, waitMs: 5_000 })
  assert.ok(measuring, 'c gets the floor it was promised')
  await measuring.release()
  assert.equal(b.floor.blockedBy(), undefined)
})

test('floor: a node probes for another only while that one holds its floor', async () => {
  const params = { target: c.peerId, seconds: 0.2 }
  await assert.rejects(a.ctrl.call(b.node.peerId, probeRunMethod, params), {
    name: 'CtrlRemoteError',
    remoteName: 'ProbeFloorError',
  })
  const held = await a.floor.acquire([b.node.peerId, c.node.peerId], LEASE_MS, { priority: true })
  assert.ok(held)
  try {
    const viaAddress = { target: c.node.getMultiaddrs()[0].toString(), seconds: 0.2 }
    for (const p of [params, viaAddress]) {
      const r = await a.ctrl.call(b.node.peerId, probeRunMethod, p, { timeoutMs: 15_000 })
      assert.equal(r.peer, c.peerId)
      assert.ok(r.bytesPerSecond > 0 && r.rttMs > 0, JSON.stringify(r))
    }
    assert.equal(b.probe.cached(c.peerId)?.peer, c.peerId, 'the reading stays with the node that took it')
    await assert.rejects(
      a.ctrl.call(b.node.peerId, probeRunMethod, { target: '/ip4/nowhere', seconds: 0.2 }),
      (err: Error & { remoteName?: string }) =>
        err.name === 'CtrlRemoteError' &&
        err.remoteName === 'SchemaError' &&
        /params\.target/.test(err.message),
    )
    await assert.rejects(a.ctrl.call(b.node.peerId, probeRunMethod, { target: c.peerId, seconds: 60 }), {
      name: 'SchemaError',
      message: /^params\.seconds: expected .*5.*, found 60$/,
    })
  } finally {
    await held.release()
  }
})

test('floor: a lease runs out by itself when its holder goes silent', async () => {
  const held = await a.floor.acquire([b.node.peerId], 300)
  assert.ok(held)
  assert.equal(b.floor.blockedBy(), a.peerId)
  await b.floor.whenFree()
  assert.equal(b.floor.blockedBy(), undefined)
  const other = await c.floor.acquire([b.node.peerId], LEASE_MS)
  assert.ok(other, 'the floor is free again without a release')
  await other.release()
  await held.release()
})
