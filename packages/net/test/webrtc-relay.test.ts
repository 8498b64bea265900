/**
 * WebRTC through a circuit relay v2, all on loopback: a peer that is reachable only through a relay
 * (it listens on nothing but `/p2p-circuit`) is dialled over the relayed connection, the two upgrade to
 * a direct WebRTC connection, and a tensor crosses it bit for bit. The relayed connection alone is
 * limited (128 KiB, 2 min by default), and Atoll's protocols refuse to run on it. A handshake that fails
 * (libdatachannel fails one now and then, see src/webrtc.ts) is dialled again by the transport, and no
 * native object of a failed one keeps the process alive: checked in processes of their own
 * (webrtc-child.ts), and by this file's own process exiting without help. A peer that answers a call
 * and stops at once still delivers the answer.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Libp2p } from '@libp2p/interface'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import * as z from 'zod/mini'
import { AtollMesh, createNode, ctrlMethod, reserveOn } from '../src/index.ts'
import { fields, LOOPBACK_ICE, loopbackRelay, nextMessage } from './helpers.ts'

let relay: Libp2p
let relayAddr: Multiaddr
/** reachable only through the relay */
let hidden: AtollMesh
/** dials `hidden` through the relay, then over WebRTC */
let dialer: AtollMesh

before(
  async () => {
    ;({ relay, address: relayAddr } = await loopbackRelay())
    hidden = new AtollMesh(await createNode({ listen: ['/p2p-circuit'], ice: LOOPBACK_ICE }))
    await hidden.start()
    await reserveOn(hidden.node, relayAddr)
    dialer = new AtollMesh(await createNode({ listen: ['/ip4/127.0.0.1/tcp/0'], ice: LOOPBACK_ICE }))
    await dialer.start()
  },
  { timeout: 60_000 },
)

after(async () => {
  await Promise.all([dialer?.stop(100), hidden?.stop(100)])
  await relay?.stop()
})

test('through the relay, two peers upgrade to WebRTC and a float32 tensor crosses it bit-identical', {
  timeout: 120_000,
}, async () => {
  const webrtc = await dialer.node.dial(multiaddr(`${relayAddr}/p2p-circuit/webrtc/p2p/${hidden.peerId}`))
  assert.match(webrtc.remoteAddr.toString(), /\/p2p-circuit\/webrtc\/p2p\//)
  assert.equal(webrtc.limits, undefined, 'a WebRTC connection is direct and unlimited')
  // Leave the WebRTC connection as the only one between the two: the tensor cannot take another path.
  for (const c of dialer.node.getConnections(hidden.node.peerId)) if (c !== webrtc) await c.close()
  assert.deepEqual(dialer.node.getConnections(hidden.node.peerId), [webrtc])

  const values = specialFloats((1 << 20) + 3) // 4 MiB: several frames, on two data channels
  const payload = new Uint8Array(values.buffer)
  const arrived = nextMessage(hidden, 'webrtc')
  await dialer.tensors.send(hidden.node.peerId, fields('webrtc', values.length, 'float32'), payload, {
    streams: 2,
  })
  const got = await arrived
  assert.equal(got.from, dialer.peerId)
  assert.deepEqual(got.header.shape, [values.length])
  assert.equal(got.payload.byteLength, payload.byteLength)
  assert.ok(Buffer.from(got.payload).equals(Buffer.from(payload)), 'payload bytes differ')
  const bits = new Uint32Array(got.payload.buffer, got.payload.byteOffset, SPECIAL_BITS.length)
  assert.deepEqual(Array.from(bits), SPECIAL_BITS) // NaN payloads and -0 kept, not canonicalised
  assert.deepEqual(dialer.node.getConnections(hidden.node.peerId), [webrtc], 'no other connection opened')
})

test('over the relayed connection alone, a tensor is refused: the protocols do not run on limited connections', {
  timeout: 60_000,
}, async () => {
  const relayedOnly = new AtollMesh(await createNode({ listen: [], webrtc: false }))
  await relayedOnly.start()
  try {
    const relayed = await relayedOnly.node.dial(multiaddr(`${relayAddr}/p2p-circuit/p2p/${hidden.peerId}`))
    assert.ok(relayed.limits !== undefined, 'circuit relay v2 connections are limited')
    let received = false
    const off = hidden.tensors.onIncoming(({ from }) => {
      if (from === relayedOnly.peerId) received = true
    })
    const values = specialFloats(64)
    await assert.rejects(
      relayedOnly.tensors.send(
        hidden.node.peerId,
        fields('relayed', values.length, 'float32'),
        new Uint8Array(values.buffer),
      ),
      { name: 'PeerUnreachableError', message: /\/atoll\/tensor\/1 .*limited connection/i },
    )
    off()
    assert.equal(received, false)
  } finally {
    await relayedOnly.stop(100)
  }
})

test('over WebRTC, a peer that answers and stops at once still delivers the whole answer', {
  timeout: 120_000,
}, async () => {
  // The stop starts as the answer is written; the peer connection used to close under it (the caller
  // saw "stream ended where a ctrl response was expected"). Each trial is a fresh pair.
  const text = 'x'.repeat(200_000)
  const answer = ctrlMethod('test.last', z.object({}), z.object({ text: z.string() }))
  for (let trial = 0; trial < 3; trial++) {
    const server = new AtollMesh(await createNode({ listen: ['/p2p-circuit'], ice: LOOPBACK_ICE }))
    const caller = new AtollMesh(await createNode({ listen: ['/ip4/127.0.0.1/tcp/0'], ice: LOOPBACK_ICE }))
    let stopped: Promise<boolean> | undefined
    try {
      await Promise.all([server.start(), caller.start()])
      await reserveOn(server.node, relayAddr)
      const webrtc = await caller.node.dial(multiaddr(`${relayAddr}/p2p-circuit/webrtc/p2p/${server.peerId}`))
      for (const c of caller.node.getConnections(server.node.peerId)) if (c !== webrtc) await c.close()
      server.ctrl.serve(answer, () => {
        setTimeout(() => {
          stopped = server.stop(1_000)
        }, 0)
        return { text }
      })
      const got = await caller.ctrl.call(server.node.peerId, answer, {})
      assert.equal(got.text.length, text.length, `trial ${trial}`)
    } finally {
      await Promise.all([stopped ?? server.stop(100), caller.stop(100)])
    }
  }
})

test('a handshake that fails its certificate check is dialled again: one dial gets a WebRTC connection', {
  timeout: 60_000,
}, async () => {
  const { code, stdout } = await runChild('redial')
  assert.equal(code, 0, `the dialling process failed:\n${stdout}`)
  const got = JSON.parse(stdout) as { remoteAddr: string; limited: boolean; handshakes: number; ms: number }
  assert.match(got.remoteAddr, /\/p2p-circuit\/webrtc\/p2p\//)
  assert.equal(got.limited, false, 'a WebRTC connection is direct and unlimited')
  // the first handshake fails by design; on a loaded machine a retry may time out too before one holds
  assert.ok(
    got.handshakes >= 2,
    `the first handshake failed and the dial took another (${got.handshakes} in all)`,
  )
})

test('a peer connection closed before it connected leaves nothing native that keeps the process alive', {
  timeout: 30_000,
}, async () => {
  const { code, stdout } = await runChild('unconnected')
  assert.equal(code, 0)
  assert.deepEqual(JSON.parse(stdout), { state: 'closed' })
})

/** Bit patterns a careless path would change: NaNs with payloads (quiet, signalling, negative), ±0, ±∞, a subnormal. */
const SPECIAL_BITS = [
  0x7fc00000, 0x7fc00001, 0xffc12345, 0x7f800001, 0x80000000, 0x00000000, 0x7f800000, 0xff800000, 0x00000001,
]

/** `n` float32 values: the special bit patterns first, then distinct ordinary values. */
function specialFloats(n: number): Float32Array {
  const bits = new Uint32Array(n)
  bits.set(SPECIAL_BITS)
  for (let i = SPECIAL_BITS.length; i < n; i++) bits[i] = Math.imul(i, 0x9e3779b1) & 0x3fffffff
  return new Float32Array(bits.buffer)
}

/** A child that has not exited this long after it began is killed: its scenario takes a few seconds. */
const CHILD_EXIT_MS = 20_000

/**
 * Runs `webrtc-child.ts scenario` and waits for it to exit by itself; one still alive after CHILD_EXIT_MS
 * is killed, and fails the test: something native kept it alive.
 */
async function runChild(scenario: string): Promise<{ code: number; stdout: string }> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'webrtc-child.ts'), scenario], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_EXIT_MS)
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  clearTimeout(timer)
  if (code === null)
    assert.fail(`webrtc-child.ts ${scenario} had not exited ${CHILD_EXIT_MS} ms after it began:\n${stdout}`)
  return { code, stdout }
}
