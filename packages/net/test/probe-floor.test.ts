import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import * as z from 'zod/mini'
import {
  type AtollMesh,
  ctrlMethod,
  type FloorHold,
  floorMethod,
  ProbeFloor,
  probeRunMethod,
  UnknownMethodError,
} from '../src/index.ts'
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
    for (const target of ['/ip4/nowhere', 'not-a-peer-id']) {
      const expected = `params.target: expected a multiaddr (/ip4/…/p2p/…) or a peer id, found "${target}"`
      await assert.rejects(a.ctrl.call(b.node.peerId, probeRunMethod, { target, seconds: 0.2 }), {
        name: 'SchemaError',
        message: `atoll.probe.run ${expected}`,
      })
      // the daemon's own check, for a caller that skips it
      await assert.rejects(a.ctrl.call(b.node.peerId, unchecked(probeRunMethod), { target, seconds: 0.2 }), {
        name: 'CtrlRemoteError',
        remoteName: 'SchemaError',
        message: `SchemaError: atoll.probe.run ${expected}`,
      })
    }
    await assert.rejects(a.ctrl.call(b.node.peerId, probeRunMethod, { target: c.peerId, seconds: 60 }), {
      name: 'SchemaError',
      message: /^atoll\.probe\.run params\.seconds: expected .*5.*, found 60$/,
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

/** `method` with schemas that let anything through: what a hostile or buggy peer may send or answer. */
function unchecked(method: { name: string }) {
  return ctrlMethod(method.name, z.unknown(), z.unknown())
}

const aborted = (hold: FloorHold) =>
  new Promise<void>((resolve) => hold.signal.addEventListener('abort', () => resolve(), { once: true }))

test('floor: a hold ends when its lease runs out; the node grants the floor again and the hold is inert', async () => {
  const held = await a.floor.acquire([b.node.peerId, c.node.peerId], 300)
  assert.ok(held)
  await aborted(held)
  assert.match((held.signal.reason as Error).message, /lease of 300 ms ran out/)
  await assert.rejects(held.extend(LEASE_MS), { name: 'ProbeFloorError', message: /ran out/ })
  // a no longer holds the floor (it used to refuse everyone for ever once a probe outlived its lease)
  const other = await b.floor.acquire([a.node.peerId, c.node.peerId], LEASE_MS, { waitMs: 3_000 })
  assert.ok(other, 'b gets the floor after the lease of a lapsed')
  await held.release()
  assert.equal(a.floor.blockedBy(), b.peerId, "a's late release frees nothing of b's floor")
  assert.equal(c.floor.blockedBy(), b.peerId)
  await other.release()
})

test('floor: a hold released twice frees nothing of a later hold', async () => {
  const first = await a.floor.acquire([b.node.peerId], LEASE_MS)
  assert.ok(first)
  await first.release()
  assert.ok(first.signal.aborted)
  const second = await a.floor.acquire([b.node.peerId], LEASE_MS)
  assert.ok(second)
  await first.release()
  assert.equal(b.floor.blockedBy(), a.peerId, 'the second hold still holds b')
  assert.equal(second.signal.aborted, false)
  await second.release()
  assert.equal(b.floor.blockedBy(), undefined)
})

test('floor: a refused extend ends the hold and says who refused', async () => {
  const d = await loopbackMesh()
  try {
    const held = await a.floor.acquire([d.node.getMultiaddrs(), b.node.peerId], LEASE_MS)
    assert.ok(held)
    // d restarts: its new floor knows nothing of the lease of a, and grants the floor to c
    const restarted = new ProbeFloor(d.ctrl, d.probe, d.peerId)
    const other = await c.floor.acquire([d.node.getMultiaddrs()], LEASE_MS)
    assert.ok(other)
    await assert.rejects(held.extend(LEASE_MS), {
      name: 'ProbeFloorError',
      message: `${d.node.getMultiaddrs()} did not extend this node's probe floor: its floor is held by ${c.peerId}`,
    })
    assert.ok(held.signal.aborted, 'whatever runs on the hold learns it must stop')
    assert.equal(b.floor.blockedBy(), undefined, 'b, which did extend, got the floor back')
    assert.equal(restarted.blockedBy(), c.peerId)
    await held.release()
    assert.equal(restarted.blockedBy(), c.peerId, 'the ended hold is inert')
    await other.release()
  } finally {
    await d.stop(0)
  }
})

test('floor: an unreachable peer or one without the floor grants it; a slow, failed or malformed answer refuses', {
  timeout: 30_000,
}, async () => {
  const odd = await loopbackMesh()
  const gone = await loopbackMesh()
  const goneAt = gone.node.getMultiaddrs()
  await gone.stop(0)
  const floor = unchecked(floorMethod)
  const outcome = async (answer: () => unknown) => {
    odd.ctrl.serve(floor, answer)
    const held = await a.floor.acquire([odd.node.getMultiaddrs(), goneAt], LEASE_MS)
    await held?.release()
    return held === undefined ? 'refused' : 'granted'
  }
  try {
    assert.equal(await outcome(() => ({ granted: true })), 'granted', 'a node that is gone cannot object')
    const unknown = () => {
      throw new UnknownMethodError(`no ctrl method '${floorMethod.name}'`)
    }
    assert.equal(await outcome(unknown), 'granted', 'nor can a node without the floor')
    assert.equal(await outcome(() => ({ granted: 'yes' })), 'refused')
    assert.equal(await outcome(() => ({})), 'refused')
    const boom = () => {
      throw new Error('boom')
    }
    assert.equal(await outcome(boom), 'refused')
    // a daemon probing a 1 Gbit/s link answers late: not a grant
    assert.equal(await outcome(() => sleep(3_500).then(() => ({ granted: true }))), 'refused')
  } finally {
    await odd.stop(0)
  }
})

test('floor: malformed requests to the floor are refused, naming the field', async () => {
  const floor = unchecked(floorMethod)
  const cases: [unknown, string][] = [
    [{ ms: -1, priority: false }, 'params.ms: expected an integer in [0, 120000], found -1'],
    [{ ms: 1000 }, 'params.priority: expected a boolean, found nothing'],
    [{ ms: 1.5, priority: true }, 'params.ms: expected an integer in [0, 120000], found 1.5'],
  ]
  for (const [params, message] of cases) {
    await assert.rejects(a.ctrl.call(b.node.peerId, floor, params), {
      name: 'CtrlRemoteError',
      remoteName: 'SchemaError',
      message: `SchemaError: atoll.probe.floor ${message}`,
    })
  }
  assert.equal(b.floor.blockedBy(), undefined)
})
