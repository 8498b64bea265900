/**
 * Background probes and the mesh's probe floor, with two real daemons on loopback: while a measuring
 * node holds the floor they probe no one (the measurement has them probe for it instead), and once it
 * lets go their deferred probes run.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { AtollMesh, createNode, probeRunMethod } from '@atoll/net'
import { pino } from 'pino'
import { PeerDaemon, type PeerSummary, peersMethod, resolveConfig } from '../src/index.ts'

const dirs: string[] = []
const daemons: PeerDaemon[] = []

after(async () => {
  await Promise.all(daemons.map((d) => d.stop()))
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

async function daemon(name: string, bootstrap: string[] = []): Promise<PeerDaemon> {
  const dataDir = mkdtempSync(join(tmpdir(), `atoll-membership-${name}-`))
  dirs.push(dataDir)
  const config = resolveConfig({
    dataDir,
    name,
    device: 'cpu',
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap,
    probeSeconds: 0.1,
  })
  const d = await PeerDaemon.start(config, pino({ level: 'silent' }))
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
