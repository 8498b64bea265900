/**
 * Background probes and the mesh's probe floor, with real daemons on loopback: while a measuring node
 * holds the floor they probe no one (the measurement has them probe for it instead), and once it lets
 * go, or is killed and its lease runs out, their deferred probes run. A peer that never answers a probe
 * holds the floor no longer than the probe's limit; a daemon that stops mid-probe gives it back at once;
 * a node that is no daemon (a measuring node) is not kept as a peer.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { AtollMesh, createNode, PROBE_PROTOCOL, probeLimitMs, probeRunMethod } from '@atoll/net'
import { type Logger, pino } from 'pino'
import { PeerDaemon, type PeerSummary, peersMethod, resolveConfig } from '../src/index.ts'

const PROBE_SECONDS = 0.1
const dirs: string[] = []
const daemons: PeerDaemon[] = []

after(async () => {
  await Promise.all(daemons.map((d) => d.stop()))
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

async function daemon(
  name: string,
  bootstrap: string[] = [],
  log: Logger = pino({ level: 'silent' }),
): Promise<PeerDaemon> {
  const dataDir = mkdtempSync(join(tmpdir(), `atoll-membership-${name}-`))
  dirs.push(dataDir)
  const config = resolveConfig({
    dataDir,
    name,
    device: 'cpu',
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap,
    probeSeconds: PROBE_SECONDS,
  })
  const d = await PeerDaemon.start(config, log)
  daemons.push(d)
  return d
}

/** What `d` knows of `other`, once `ready` holds for it. */
async function knows(
  asker: AtollMesh,
  d: PeerDaemon,
  other: PeerDaemon,
  ready: (s: PeerSummary) => boolean,
): Promise<PeerSummary> {
  for (;;) {
    const { peers } = await asker.ctrl.call(d.mesh.node.getMultiaddrs(), peersMethod, {})
    const s = peers.find((p) => p.peerId === other.mesh.peerId)
    if (s !== undefined && ready(s)) return s
    await sleep(200)
  }
}

test('daemons defer their background probes while a measurement holds the floor', {
  timeout: 120_000,
}, async () => {
  const a = await daemon('a')
  const measurer = new AtollMesh(await createNode({ listen: ['/ip4/127.0.0.1/tcp/0'], webrtc: false }))
  await measurer.start()
  try {
    const floor = await measurer.floor.acquire([a.mesh.node.getMultiaddrs()[0]], 60_000, {
      priority: true,
    })
    assert.ok(floor, 'a lone daemon grants the floor')
    // b joins through a: each wants to probe the other, and neither may while a's floor is held
    const b = await daemon('b', [a.mesh.node.getMultiaddrs()[0].toString()])
    const described = (s: PeerSummary) => s.device === 'cpu'
    await Promise.all([knows(measurer, a, b, described), knows(measurer, b, a, described)])
    await sleep(2_000) // twenty times the daemons' pause before a probe
    assert.deepEqual(a.mesh.probe.results(), [], 'a probed while the floor was held')
    assert.deepEqual(b.mesh.probe.results(), [], 'b probed while the floor was held')

    // the holder has a probe for it; the reading is the daemon's own from then on
    const r = await measurer.ctrl.call(
      a.mesh.node.peerId,
      probeRunMethod,
      { target: b.mesh.peerId, seconds: 0.2 },
      { timeoutMs: 15_000 },
    )
    assert.equal(r.peer, b.mesh.peerId)
    const ofB = await knows(measurer, a, b, (s) => s.rttMs !== undefined)
    assert.equal(ofB.probedAt, r.measuredAt)

    const released = Date.now()
    await floor.release()
    const ofA = await knows(measurer, b, a, (s) => s.probedAt !== undefined)
    assert.ok(ofA.probedAt! >= released, 'b probed a only after the floor was released')
  } finally {
    await measurer.stop(0)
  }
})

/** A throwaway node that asks the daemons what they know. */
async function asker(): Promise<AtollMesh> {
  const mesh = new AtollMesh(await createNode({ listen: ['/ip4/127.0.0.1/tcp/0'], webrtc: false }))
  await mesh.start()
  return mesh
}

const address = (d: PeerDaemon) => d.mesh.node.getMultiaddrs()[0].toString()

/** The log lines of a daemon, as objects, for a test to wait on. */
function logLines(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) })
  return { log, lines }
}

async function until<T>(what: string, found: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = found()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await sleep(50)
  }
}

test('a measurement killed mid-probe: the daemons probe again once its lease runs out', {
  timeout: 120_000,
}, async () => {
  const a = await daemon('killed-a')
  const leaseMs = 3_000
  const holder = spawn(
    process.execPath,
    [join(import.meta.dirname, 'floor-holder.ts'), String(leaseMs), address(a)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  )
  const lines = createInterface({ input: holder.stdout })[Symbol.asyncIterator]()
  const measurer = await asker()
  try {
    assert.deepEqual(JSON.parse(String((await lines.next()).value)), { held: true })
    const b = await daemon('killed-b', [address(a)])
    const described = (s: PeerSummary) => s.device === 'cpu'
    await Promise.all([knows(measurer, a, b, described), knows(measurer, b, a, described)])
    holder.stdin.write(`${b.mesh.peerId}\n`)
    assert.deepEqual(JSON.parse(String((await lines.next()).value)), { probing: b.mesh.peerId })
    await sleep(300) // a is probing b for the holder
    assert.deepEqual(b.mesh.probe.results(), [], 'b probed while the floor of a was held')
    holder.kill('SIGKILL')
    const killedAt = Date.now()
    const ofA = await knows(measurer, b, a, (s) => s.probedAt !== undefined)
    // the holder renewed its lease every third of it, so the last one runs out ⅔ of a lease after the kill
    assert.ok(ofA.probedAt! >= killedAt + leaseMs / 2, 'b waited for the lease of the dead holder')
    assert.ok(ofA.probedAt! < killedAt + leaseMs + 20_000, 'and probed soon after it ran out')
  } finally {
    holder.kill('SIGKILL')
    await measurer.stop(0)
  }
})

test('a peer that never answers a probe holds the floor no longer than the probe limit', {
  timeout: 120_000,
}, async () => {
  const mute = await daemon('mute')
  await mute.mesh.node.handle(PROBE_PROTOCOL, () => {}, { force: true }) // accepts, never answers
  const { log, lines } = logLines()
  const started = Date.now()
  const a = await daemon('patient', [address(mute)], log)
  const failed = await until(
    'a gives up its probe of mute',
    () => lines.find((l) => l.msg === 'probe failed' && l.peer === mute.mesh.peerId),
    probeLimitMs(PROBE_SECONDS) + 30_000,
  )
  const limitMs = probeLimitMs(PROBE_SECONDS)
  // the lease of a background probe is the probe's limit, and the lease runs out first
  assert.match((failed.err as Error).message, new RegExp(`lease of ${limitMs} ms ran out`))
  assert.ok(Date.now() - started < limitMs + 20_000)
  await until(
    'mute gets its floor back',
    () => (mute.mesh.floor.blockedBy() === undefined ? true : undefined),
    5_000,
  )
  const measurer = await asker()
  try {
    await knows(measurer, mute, a, (s) => s.probedAt !== undefined) // the mesh goes on probing
  } finally {
    await measurer.stop(0)
  }
})

test('a daemon that stops mid-probe gives the floor back before it stops', { timeout: 120_000 }, async () => {
  const mute = await daemon('mute2')
  await mute.mesh.node.handle(PROBE_PROTOCOL, () => {}, { force: true })
  const leaving = await daemon('leaving', [address(mute)])
  // longer than any answered probe here: leaving is stuck on its probe of mute
  await until('leaving holds the floor of mute', () => held(mute, leaving.mesh.peerId, 2_000), 60_000)
  const stopped = performance.now()
  daemons.splice(daemons.indexOf(leaving), 1)
  await leaving.stop()
  assert.ok(performance.now() - stopped < 5_000, 'stop does not wait for the probe limit')
  assert.equal(mute.mesh.floor.blockedBy(), undefined, 'mute may probe again at once')
})

const heldSince = new Map<string, number>()
/** True once `d`'s floor has been held by `holder` for `ms` without a break. */
function held(d: PeerDaemon, holder: string, ms: number): true | undefined {
  const key = `${d.mesh.peerId}>${holder}`
  if (d.mesh.floor.blockedBy() !== holder) {
    heldSince.delete(key)
    return undefined
  }
  const since = heldSince.get(key) ?? Date.now()
  heldSince.set(key, since)
  return Date.now() - since >= ms ? true : undefined
}

test('a node that serves no capability report (a measuring node) is not kept as a peer', async () => {
  const a = await daemon('host')
  const tool = await asker()
  await tool.node.dial(a.mesh.node.getMultiaddrs())
  const measurer = await asker()
  try {
    await sleep(1_000) // identify, then the capability request it cannot answer
    const { peers } = await measurer.ctrl.call(a.mesh.node.getMultiaddrs(), peersMethod, {})
    assert.deepEqual(
      peers.filter((p) => p.peerId === tool.peerId || p.peerId === measurer.peerId),
      [],
      'the tools are not peers',
    )
  } finally {
    await Promise.all([tool.stop(0), measurer.stop(0)])
  }
})
