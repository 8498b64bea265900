import { type FenceLink, fenceLinks, type LinkMatrix } from './cluster.ts'
import { InfeasiblePlanError } from './errors.ts'
import type { FenceCluster } from './types.ts'

/** Largest cluster count ordered exactly (bitmask DP, 2^K·K² steps); beyond it, best-of-K greedy. */
const EXACT_CHAIN_LIMIT = 12

/**
 * Orders clusters into a chain that maximises its slowest link (a bottleneck Hamiltonian path).
 * Returns the order (indices into `clusters`) and the link of each consecutive pair.
 */
export function orderClusters(
  clusters: readonly FenceCluster[],
  matrix: LinkMatrix,
): { order: number[]; links: FenceLink[] } {
  const K = clusters.length
  const link = fenceLinks(matrix, clusters)
  const w = (i: number, j: number) => (i === j ? Infinity : link[i][j].bandwidthBps)
  const order = K <= EXACT_CHAIN_LIMIT ? exactChain(K, w) : greedyChain(K, w)
  const links = order.slice(1).map((j, k) => link[order[k]][j])
  const broken = links.findIndex((l) => !(l.bandwidthBps > 0))
  if (broken >= 0)
    throw new InfeasiblePlanError(
      `no link joins cluster of '${links[broken].a}' and that of '${links[broken].b}'`,
    )
  return { order, links }
}

function exactChain(K: number, w: (i: number, j: number) => number): number[] {
  const full = (1 << K) - 1
  const best = new Float64Array((1 << K) * K).fill(-1)
  const prev = new Int32Array((1 << K) * K).fill(-1)
  for (let i = 0; i < K; i++) best[(1 << i) * K + i] = Infinity
  for (let mask = 1; mask <= full; mask++) {
    for (let last = 0; last < K; last++) {
      const v = best[mask * K + last]
      if (v < 0) continue
      for (let j = 0; j < K; j++) {
        if (mask & (1 << j)) continue
        const next = mask | (1 << j)
        const cand = Math.min(v, w(last, j))
        if (cand > best[next * K + j]) {
          best[next * K + j] = cand
          prev[next * K + j] = last
        }
      }
    }
  }
  let last = 0
  for (let i = 1; i < K; i++) if (best[full * K + i] > best[full * K + last]) last = i
  const order: number[] = []
  for (let mask = full; last >= 0; ) {
    order.push(last)
    const p = prev[mask * K + last]
    mask &= ~(1 << last)
    last = p
  }
  return order.reverse()
}

function greedyChain(K: number, w: (i: number, j: number) => number): number[] {
  let best: number[] = []
  let bestScore = -1
  for (let start = 0; start < K; start++) {
    const order = [start]
    const used = new Set(order)
    let score = Infinity
    while (order.length < K) {
      let pick = -1
      for (let j = 0; j < K; j++)
        if (!used.has(j) && (pick < 0 || w(order.at(-1)!, j) > w(order.at(-1)!, pick))) pick = j
      score = Math.min(score, w(order.at(-1)!, pick))
      order.push(pick)
      used.add(pick)
    }
    if (score > bestScore) {
      bestScore = score
      best = order
    }
  }
  return best
}

/**
 * The peers of a chain of clusters as one chain, for plans that give each peer its own stage: a
 * cluster's peers stay together, so the chain crosses each fence once. A cluster is entered at the
 * peer with the widest link from the one before it and left from the peer with the widest link
 * into the next cluster; in between, each step takes the widest link onward (ties: listed order).
 */
export function chainPeers(matrix: LinkMatrix, clusters: readonly FenceCluster[]): string[] {
  const n = matrix.ids.length
  const position = new Map(matrix.ids.map((id, i) => [id, i]))
  const reach = (id: string, to: readonly string[]) =>
    Math.max(...to.map((other) => matrix.bw[position.get(id)! * n + position.get(other)!]))
  const widest = (from: readonly string[], to: readonly string[]) =>
    from.reduce((best, id) => (reach(id, to) > reach(best, to) ? id : best))
  const chain: string[] = []
  clusters.forEach((cluster, k) => {
    const entry = k > 0 ? widest(cluster.peers, [chain.at(-1)!]) : undefined
    const rest = cluster.peers.filter((id) => id !== entry)
    const next = clusters[k + 1]?.peers
    const exit = next !== undefined && rest.length > 0 ? widest(rest, next) : undefined
    let middle = rest.filter((id) => id !== exit)
    const order = entry === undefined ? [] : [entry]
    while (middle.length > 0) {
      const last = order.at(-1)
      const pick = last === undefined ? middle[0] : widest(middle, [last])
      order.push(pick)
      middle = middle.filter((id) => id !== pick)
    }
    chain.push(...order, ...(exit === undefined ? [] : [exit]))
  })
  return chain
}
