/**
 * Three `atoll peer` daemons in their own processes on loopback: two join through the third's address
 * and all three end up knowing each other (peer exchange), with capability reports and probed links;
 * `atoll peers` lists them; SIGTERM and SIGINT exit 0; the peer id survives a restart.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { rmSync } from 'node:fs'
import { after, test } from 'node:test'
import { promisify } from 'node:util'
import { type PeersAnswer, queryPeers } from '../packages/peer/src/index.ts'
import { atollMain, PeerProcess } from './helpers/peer-process.ts'

const run = promisify(execFile)
const peers: PeerProcess[] = []
const fast = ['--probe-seconds', '0.2']

after(async () => {
  await Promise.all(peers.map((p) => p.stop('SIGKILL')))
  for (const p of peers) rmSync(p.dataDir, { recursive: true, force: true })
})

/** Polls `peer` until every other peer is known, connected, described and probed. */
async function knowsAll(peer: PeerProcess, others: PeerProcess[], timeoutMs = 45_000): Promise<PeersAnswer> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const answer = await queryPeers(peer.addresses)
    const complete = others.every((o) => {
      const p = answer.peers.find((x) => x.peerId === o.peerId)
      return (
        p?.connected &&
        p.device === 'cpu' &&
        (p.flops ?? 0) > 0 &&
        p.rttMs !== undefined &&
        p.bytesPerSecond !== undefined
      )
    })
    if (complete) return answer
    if (Date.now() > until)
      assert.fail(`peer ${peer.peerId} still lacks others: ${JSON.stringify(answer.peers)}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

test('three peers find each other from one bootstrap address', { timeout: 120_000 }, async () => {
  const boot = await PeerProcess.start([...fast, '--name', 'boot'])
  peers.push(boot)
  // each is kept as soon as it runs, so that `after` stops it even when its sibling fails to start
  const joiners = await Promise.all(
    ['p1', 'p2'].map(async (name) => {
      const joiner = await PeerProcess.start([...fast, '--name', name, '--bootstrap', boot.addresses[0]])
      peers.push(joiner)
      return joiner
    }),
  )
  const [p1, p2] = joiners
  await Promise.all([knowsAll(boot, [p1, p2]), knowsAll(p1, [boot, p2]), knowsAll(p2, [boot, p1])])

  const cli = await run(process.execPath, [atollMain, 'peers', '--data-dir', p1.dataDir])
  assert.match(cli.stdout, new RegExp(`peer ${p1.peerId} \\(p1\\) knows 2 peer`))
  for (const other of [boot, p2])
    assert.match(cli.stdout, new RegExp(`${other.peerId} +(boot|p2) +yes +cpu +[\\d.]+ G`))

  const byTerm = await p2.stop('SIGTERM')
  const byInt = await p1.stop('SIGINT')
  assert.deepEqual([byTerm.code, byInt.code], [0, 0])
  assert.ok(p1.logs.some((l) => l.msg === 'peer stopped'))
})

test('the peer id survives a restart with the same data directory', { timeout: 60_000 }, async () => {
  if (peers.length === 0) peers.push(await PeerProcess.start(fast))
  const first = peers[0]
  const { code } = await first.stop('SIGTERM')
  assert.equal(code, 0)
  const again = await PeerProcess.start(fast, first.dataDir)
  peers.push(again)
  assert.equal(again.peerId, first.peerId)
})

test('bad flags are usage errors that name the flag (exit 2)', { timeout: 60_000 }, async () => {
  for (const [args, message] of [
    [['--device', 'tpu'], /--device: expected one of "auto", "cpu", "cuda", "webgpu", found "tpu"/],
    [['--emulate-link', 'fast'], /--emulate-link: expected \[PEER=\]RATE\[,DELAYms\].*, found "fast"/],
    [
      ['--metrics-port', '65536'],
      /--metrics-port: expected PORT or HOST:PORT with PORT in \[0, 65535\], found "65536"/,
    ],
    [['--bootstrap', '/ip4/127.0.0.1/tcp/1'], /--bootstrap: expected a multiaddr ending in \/p2p\/<peer id>/],
    [
      ['--allow', 'lab-coordinator'],
      /--allow: expected "any" or a libp2p peer id .*, found "lab-coordinator"/,
    ],
    [['--job-timeout', '0'], /--job-timeout: expected a finite number in \(0, 604800\], found 0/],
  ] as const) {
    const r = await run(process.execPath, [atollMain, 'peer', ...args]).then(
      () => assert.fail(`atoll peer ${args.join(' ')} succeeded`),
      (err: { code: number; stderr: string }) => err,
    )
    assert.equal(r.code, 2)
    assert.match(r.stderr, message)
  }
})
