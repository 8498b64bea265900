import { MIN_FENCE_GAP_RATIO } from './constants.ts'
import { InvalidFieldError, UnknownReferenceError } from './errors.ts'
import type { FenceCluster, LinkProfile, PeerProfile } from './types.ts'

/** Links as dense matrices over peer indices (a missing link has bandwidth 0). */
export interface LinkMatrix {
  ids: string[]
  bw: Float64Array
  rtt: Float64Array
}

export function linkMatrix(peers: readonly PeerProfile[], links: readonly LinkProfile[]): LinkMatrix {
  const n = peers.length
  const index = new Map<string, number>()
  peers.forEach((p, i) => {
    if (index.has(p.id)) throw new UnknownReferenceError(`peer id '${p.id}' appears twice`)
    index.set(p.id, i)
  })
  const bw = new Float64Array(n * n)
  const rtt = new Float64Array(n * n)
  for (let i = 0; i < n; i++) bw[i * n + i] = Infinity
  for (let k = 0; k < links.length; k++) {
    const l = links[k]
    const a = index.get(l.a)
    const b = index.get(l.b)
    if (a === undefined || b === undefined) {
      throw new UnknownReferenceError(
        `links[${k}] joins '${l.a}' and '${l.b}', but ${a === undefined ? l.a : l.b} is no peer`,
      )
    }
    if (a === b) throw new InvalidFieldError(`links[${k}]`, 'two different peers', `${l.a} to itself`)
    bw[a * n + b] = bw[b * n + a] = l.bandwidthBps
    rtt[a * n + b] = rtt[b * n + a] = l.rttSeconds
  }
  return { ids: peers.map((p) => p.id), bw, rtt }
}

export interface ClusterOptions {
  /** cut every link slower than this (bytes/s) instead of at the largest gap */
  thresholdBps?: number
  /** the largest gap must be at least this ratio to make a fence (default 2) */
  minGapRatio?: number
}

/**
 * Single-linkage clustering on log-bandwidth: the maximum spanning tree (Prim, O(n²) on the dense
 * matrix — cheaper than sorting n² links) holds, for every pair, the widest path's bottleneck;
 * cutting its edges below a threshold gives the single-linkage clusters. The threshold sits in the
 * largest gap between consecutive tree-edge log-bandwidths, so a fence stands where bandwidth drops.
 */
export function clusterPeers(matrix: LinkMatrix, options: ClusterOptions = {}): FenceCluster[] {
  const n = matrix.ids.length
  const tree = maximumSpanningTree(matrix)
  const threshold =
    options.thresholdBps ??
    largestGap(
      tree.map((e) => e.bw),
      options.minGapRatio,
    )
  const parent = Int32Array.from({ length: n }, (_, i) => i)
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]]
      i = parent[i]
    }
    return i
  }
  // A zero-bandwidth tree edge is no link at all: peers that no link joins never share a cluster.
  const joins = (bw: number) => bw > 0 && bw >= threshold
  for (const e of tree) if (joins(e.bw)) parent[find(e.a)] = find(e.b)
  const groups = new Map<number, FenceCluster>()
  for (let i = 0; i < n; i++) {
    const root = find(i)
    const g = groups.get(root) ?? { peers: [], innerBandwidthBps: 0 }
    g.peers.push(matrix.ids[i])
    groups.set(root, g)
  }
  for (const e of tree) {
    if (joins(e.bw)) {
      const g = groups.get(find(e.a))!
      g.innerBandwidthBps = g.innerBandwidthBps === 0 ? e.bw : Math.min(g.innerBandwidthBps, e.bw)
    }
  }
  return [...groups.values()]
}

function maximumSpanningTree(m: LinkMatrix): { a: number; b: number; bw: number }[] {
  const n = m.ids.length
  const inTree = new Uint8Array(n)
  const best = new Float64Array(n).fill(-1)
  const from = new Int32Array(n).fill(-1)
  const edges: { a: number; b: number; bw: number }[] = []
  best[0] = Infinity
  for (let step = 0; step < n; step++) {
    let v = -1
    for (let i = 0; i < n; i++) if (!inTree[i] && (v < 0 || best[i] > best[v])) v = i
    inTree[v] = 1
    if (from[v] >= 0) edges.push({ a: from[v], b: v, bw: best[v] })
    for (let i = 0; i < n; i++) {
      const w = m.bw[v * n + i]
      if (!inTree[i] && w > best[i]) {
        best[i] = w
        from[i] = v
      }
    }
  }
  return edges
}

/** Threshold in the middle (geometric) of the largest gap of log-bandwidths; 0 (no cut) if too small. */
function largestGap(bandwidths: number[], minGapRatio = MIN_FENCE_GAP_RATIO): number {
  const sorted = [...new Set(bandwidths)].sort((a, b) => b - a)
  let gap = Math.log(minGapRatio)
  let threshold = 0
  for (let i = 0; i + 1 < sorted.length; i++) {
    const g = sorted[i + 1] > 0 ? Math.log(sorted[i] / sorted[i + 1]) : Infinity
    if (g >= gap) {
      gap = g
      threshold = sorted[i + 1] > 0 ? Math.sqrt(sorted[i] * sorted[i + 1]) : sorted[i] / 2
    }
  }
  return threshold
}

/** The widest link between two clusters: the pair of peers that will face each other over the fence. */
export interface FenceLink {
  bandwidthBps: number
  rttSeconds: number
  a: string
  b: string
}

/** The widest link between every two clusters, in one pass over the peer pairs (O(n²)). */
export function fenceLinks(matrix: LinkMatrix, clusters: readonly FenceCluster[]): FenceLink[][] {
  const n = matrix.ids.length
  const K = clusters.length
  const pos = new Map(matrix.ids.map((id, i) => [id, i]))
  const of = new Int32Array(n).fill(-1)
  clusters.forEach((c, k) => {
    for (const id of c.peers) of[pos.get(id)!] = k
  })
  const bestBw = new Float64Array(K * K).fill(-1)
  const bestRtt = new Float64Array(K * K).fill(Infinity)
  const pair = new Int32Array(K * K * 2)
  for (let i = 0; i < n; i++) {
    const ki = of[i]
    for (let j = 0; j < n; j++) {
      const kj = of[j]
      if (ki === kj || ki < 0 || kj < 0) continue
      const w = matrix.bw[i * n + j]
      const c = ki * K + kj
      if (w > bestBw[c] || (w === bestBw[c] && matrix.rtt[i * n + j] < bestRtt[c])) {
        bestBw[c] = w
        bestRtt[c] = matrix.rtt[i * n + j]
        pair[2 * c] = i
        pair[2 * c + 1] = j
      }
    }
  }
  return clusters.map((_, a) =>
    clusters.map((_, b) => {
      const c = a * K + b
      const [i, j] = [pair[2 * c], pair[2 * c + 1]]
      return {
        bandwidthBps: Math.max(0, bestBw[c]),
        rttSeconds: bestRtt[c],
        a: matrix.ids[i],
        b: matrix.ids[j],
      }
    }),
  )
}
