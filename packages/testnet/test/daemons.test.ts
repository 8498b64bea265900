/**
 * The order the daemons of a testnet start in: by default the first peer, then every other at once;
 * with `up`'s `order`, one at a time in that order, each once the one before has reported its address
 * (so they join the mesh in it: `atoll bench pipeline` wants a1, b1, a2, b2). The backends' hooks are
 * stood in for by a table of logs (starting daemons in namespaces needs root, and is what
 * tests/testnet-netns.test.ts does); an order that is not every peer once is refused before anything
 * is made.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { type DaemonHooks, startDaemons } from '../src/daemons.ts'
import {
  backendPlan,
  loadTopology,
  type PeerState,
  plannedPeers,
  readState,
  type TestnetError,
  upTestnet,
} from '../src/index.ts'

let dir: string
const saved = process.env.ATOLL_TESTNET_DIR

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'atoll-daemons-'))
  process.env.ATOLL_TESTNET_DIR = dir
})
after(() => {
  if (saved === undefined) delete process.env.ATOLL_TESTNET_DIR
  else process.env.ATOLL_TESTNET_DIR = saved
  rmSync(dir, { recursive: true, force: true })
})

const PEER_ID = '12D3KooWGzZbSeXvuVNT1r8hMj7SLdYkaZUbG4SKTeUWuDVUVxmH'
/** A daemon "calibrates" this long before it prints its address. */
const START_MS = 20

/** Hooks whose daemons print their address START_MS after launch; `events` records what happened when. */
function recordingHooks(events: string[]): DaemonHooks {
  const logs = new Map<string, string>()
  return {
    launch(peer: PeerState, argv: string[]) {
      events.push(`start ${peer.name}${argv[1] === '-' ? '' : ' (bootstrap)'}`)
      setTimeout(() => {
        logs.set(peer.name, `listening on /ip4/${peer.address}/tcp/4001/p2p/${PEER_ID}\n`)
        events.push(`up ${peer.name}`)
      }, START_MS)
    },
    isAlive: () => true,
    readLog: (peer) => logs.get(peer.name) ?? '',
    argv: (peer, bootstrap) => [peer.name, bootstrap ?? '-'],
  }
}

const geo2Peers = () => plannedPeers(backendPlan(loadTopology('geo2'), 'netns'), 'netns')

test('by default the first daemon starts alone, then every other at once', async () => {
  const events: string[] = []
  const peers = geo2Peers()
  await startDaemons(peers, recordingHooks(events))
  assert.deepEqual(events.slice(0, 5), [
    'start a1',
    'up a1',
    'start a2 (bootstrap)',
    'start b1 (bootstrap)',
    'start b2 (bootstrap)',
  ])
  assert.ok(peers.every((p) => p.multiaddr === `/ip4/${p.address}/tcp/4001/p2p/${PEER_ID}`))
})

test('with an order, each daemon starts once the one before it has its address, bootstrapped from the first', async () => {
  const events: string[] = []
  const peers = geo2Peers()
  await startDaemons(peers, recordingHooks(events), ['a1', 'b1', 'a2', 'b2'])
  assert.deepEqual(events, [
    'start a1',
    'up a1',
    'start b1 (bootstrap)',
    'up b1',
    'start a2 (bootstrap)',
    'up a2',
    'start b2 (bootstrap)',
    'up b2',
  ])
  // the state keeps the topology's order; only the starts follow the one asked for
  assert.deepEqual(
    peers.map((p) => p.name),
    ['a1', 'a2', 'b1', 'b2'],
  )
  assert.ok(peers.every((p) => p.multiaddr?.startsWith(`/ip4/${p.address}/`)))
})

test('an order that does not name every peer once is refused before anything is made', async () => {
  const topology = loadTopology('geo2')
  for (const [order, says] of [
    [['a1', 'b1', 'a2'], /missing b2/],
    [['a1', 'b1', 'a2', 'b2', 'c1'], /no peer c1/],
    [['a1', 'a1', 'a2', 'b2'], /missing b1/],
    [[], /got none; missing a1, a2, b1, b2/],
  ] as const) {
    await assert.rejects(
      upTestnet(topology, 'netns', { order }),
      (err: TestnetError) =>
        err.name === 'TestnetError' &&
        /the start order must name every peer of the topology once \(a1, a2, b1, b2\)/.test(err.message) &&
        says.test(err.message),
    )
  }
  // no state written (the namespaces are not compared: another testnet may come and go meanwhile)
  assert.equal(readState(), undefined)
})
