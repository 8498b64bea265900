/**
 * A probe is bounded in time: a peer that accepts `/atoll/probe/1` and never answers holds this node's
 * probe queue no longer than the probe's limit, and a probe waiting behind it leaves when its caller
 * gives up.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createNode } from '../src/node.ts'
import { PROBE_PROTOCOL, probeLimitMs } from '../src/index.ts'
import { loopbackMesh } from './helpers.ts'

test('a probe of a peer that never answers ends at its limit, and does not hold up the queue for ever', {
  timeout: 60_000,
}, async () => {
  const [a, b] = await Promise.all([loopbackMesh(), loopbackMesh()])
  const mute = await createNode({ listen: ['/ip4/127.0.0.1/tcp/0'], webrtc: false })
  await mute.start()
  await mute.handle(PROBE_PROTOCOL, () => {}) // accepts the stream, never answers
  try {
    const seconds = 0.1
    const started = performance.now()
    const hung = a.probe.probe(mute.getMultiaddrs(), { seconds })
    const waiting = a.probe.probe(b.node.peerId, { seconds, signal: AbortSignal.timeout(300) })
    await assert.rejects(waiting, {
      name: 'ProbeFailedError',
      message: /^probe of .* cancelled: TimeoutError/,
    })
    assert.ok(performance.now() - started < 3_000, 'the waiting probe left when its caller gave up')

    await assert.rejects(hung, {
      name: 'ProbeFailedError',
      message: `probe of ${mute.getMultiaddrs()} did not end within ${probeLimitMs(seconds)} ms (the limit of a ${seconds} s probe)`,
    })
    const took = performance.now() - started
    assert.ok(took >= probeLimitMs(seconds) - 100 && took < probeLimitMs(seconds) + 5_000, `${took} ms`)

    const next = await a.probe.probe(b.node.getMultiaddrs(), { seconds })
    assert.equal(next.peer, b.peerId, 'the queue moves on')
  } finally {
    await Promise.all([a.stop(0), b.stop(0), mute.stop()])
  }
})
