import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { clusterPeers, type LinkProfile, linkMatrix, orderClusters, type PeerProfile } from '../src/index.ts'
import { seededRandom as rng } from '@atoll/core'
import { geo } from './topology.ts'

const sorted = (clusters: { peers: string[] }[]) => clusters.map((c) => [...c.peers].sort()).sort()

describe('clustering peers at the largest bandwidth gap', () => {
  it('finds the sites of a geo topology, whatever the join order', () => {
    const { peers, links } = geo(3, 4, { insideBps: 1.25e9, betweenBps: 12.5e6 })
    const clusters = clusterPeers(linkMatrix(peers, links))
    assert.deepEqual(
      sorted(clusters),
      [0, 1, 2].map((s) => [0, 1, 2, 3].map((i) => `s${s}p${i}`)),
    )
    for (const c of clusters) assert.equal(c.innerBandwidthBps, 1.25e9)
  })

  it('keeps one cluster when no gap reaches the minimum ratio, and honours a threshold', () => {
    const { peers, links } = geo(2, 2, { insideBps: 1e9, betweenBps: 0.7e9 })
    assert.equal(clusterPeers(linkMatrix(peers, links)).length, 1)
    assert.equal(clusterPeers(linkMatrix(peers, links), { thresholdBps: 0.8e9 }).length, 2)
  })

  it('cuts at the largest of several gaps (single linkage)', () => {
    // two racks of a site share 1 GB/s, sites share 10 MB/s: the 100× gap wins over the 10× one
    const bw = (a: number, b: number) => (Math.floor(a / 2) === Math.floor(b / 2) ? 1e8 : 1e6)
    const { peers, links } = geo(4, 2, { insideBps: 1e9, betweenBps: bw })
    assert.equal(clusterPeers(linkMatrix(peers, links)).length, 2)
  })

  it('rejects links to unknown peers', () => {
    const peers: PeerProfile[] = [{ id: 'a', device: 'cpu', flops: 1, memoryBytes: 1 }]
    const links: LinkProfile[] = [{ a: 'a', b: 'x', bandwidthBps: 1, rttSeconds: 0 }]
    assert.throws(() => linkMatrix(peers, links), { name: 'UnknownReferenceError', message: /links\[0\].*x/ })
    const self: LinkProfile[] = [{ a: 'a', b: 'a', bandwidthBps: 1, rttSeconds: 0 }]
    assert.throws(() => linkMatrix(peers, self), { name: 'InvalidFieldError', message: /^links\[0\]/ })
  })

  it('never puts peers that no link joins into one cluster', () => {
    const { peers } = geo(2, 2, { insideBps: 1e9, betweenBps: 1e6 })
    const clusters = clusterPeers(linkMatrix(peers, []))
    assert.equal(clusters.length, 4)
    for (const c of clusters) assert.equal(c.innerBandwidthBps, 0)
  })
})

describe('ordering clusters into a chain', () => {
  it('maximises the slowest inter-cluster link (checked against every permutation)', () => {
    const next = rng(5)
    for (let trial = 0; trial < 20; trial++) {
      const K = 3 + (trial % 4)
      const w: number[][] = Array.from({ length: K }, () => new Array<number>(K).fill(0))
      for (let a = 0; a < K; a++)
        for (let b = a + 1; b < K; b++) w[a][b] = w[b][a] = 1 + Math.floor(next() * 100)
      const { peers, links } = geo(K, 1, { insideBps: 1e9, betweenBps: (a, b) => w[a][b] })
      const m = linkMatrix(peers, links)
      const clusters = peers.map((p) => ({ peers: [p.id], innerBandwidthBps: 0 }))
      const { order, links: chain } = orderClusters(clusters, m)
      assert.deepEqual([...order].sort(), [...Array(K).keys()])
      const got = Math.min(...chain.map((l) => l.bandwidthBps))
      assert.equal(got, bestChain(w))
    }
  })
})

describe('ordering many clusters (greedy beyond 12)', () => {
  it('finds a planted chain of fast links among 16 clusters', () => {
    const next = rng(9)
    const K = 16
    const planted = Array.from({ length: K }, (_, i) => i).sort(() => next() - 0.5)
    const w: number[][] = Array.from({ length: K }, () => new Array<number>(K).fill(0))
    for (let a = 0; a < K; a++)
      for (let b = a + 1; b < K; b++) w[a][b] = w[b][a] = 1 + Math.floor(next() * 50)
    for (let i = 1; i < K; i++) w[planted[i - 1]][planted[i]] = w[planted[i]][planted[i - 1]] = 100
    const { peers, links } = geo(K, 1, { insideBps: 1e9, betweenBps: (a, b) => w[a][b] })
    const clusters = peers.map((p) => ({ peers: [p.id], innerBandwidthBps: 0 }))
    const { order, links: chain } = orderClusters(clusters, linkMatrix(peers, links))
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      [...Array(K).keys()],
    )
    assert.equal(Math.min(...chain.map((l) => l.bandwidthBps)), 100)
  })
})

function bestChain(w: number[][]): number {
  const K = w.length
  let best = 0
  const visit = (path: number[], bottleneck: number) => {
    if (path.length === K) best = Math.max(best, bottleneck)
    for (let j = 0; j < K; j++) {
      if (!path.includes(j))
        visit([...path, j], path.length ? Math.min(bottleneck, w[path.at(-1)!][j]) : Infinity)
    }
  }
  visit([], Infinity)
  return best
}
