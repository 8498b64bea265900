/**
 * What a coordinator plans from: a link's bandwidth is the higher of its two directions' readings
 * (a busy CPU only reads low), and a pair read one way only is named, so that a coordinator waits
 * for its second reading.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { linksOf } from '../src/job/profiles.ts'
import type { PeersAnswer } from '../src/rpc.ts'

const answer = (self: string, read: Record<string, [number, number]>): PeersAnswer => ({
  self: { peerId: self, name: self, addresses: [] },
  peers: Object.entries(read).map(([peerId, [bytesPerSecond, rttMs]]) => ({
    peerId,
    addresses: [],
    connected: true,
    bytesPerSecond,
    rttMs,
  })),
})

test('a link read both ways takes the higher bandwidth and the lower RTT; one read one way is named', () => {
  const peers = [{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }]
  const { links, unmeasured, oneWay } = linksOf(peers, [
    // a read its link to b at half the rate b read it (a was busy)
    answer('a', { b: [6e6, 2], c: [12e6, 1] }),
    answer('b', { a: [12e6, 3] }),
    answer('c', {}),
    // d's probe of a failed: no reading
    answer('d', { a: [0, 1] }),
  ])
  assert.deepEqual(links, [
    { a: 'a', b: 'b', bandwidthBps: 12e6, rttSeconds: 0.002 },
    { a: 'a', b: 'c', bandwidthBps: 12e6, rttSeconds: 0.001 },
  ])
  assert.deepEqual(oneWay, [['a', 'c']])
  assert.deepEqual(unmeasured, [
    ['a', 'd'],
    ['b', 'c'],
    ['b', 'd'],
    ['c', 'd'],
  ])
})
