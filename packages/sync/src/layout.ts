/**
 * Who sums what in an all-reduce: flat (every member owns a chunk) or hierarchical (clusters of
 * members joined by fast links reduce to a leader, the leaders all-reduce, the leaders broadcast).
 * A layout is a pure function of the member list and the links, so every replica that is given the
 * same ones computes the same layout — and the same reduction order.
 */
import { clusterPeers, type LinkMatrix } from '@atoll/sched'
import { InvalidSyncOptionError } from './errors.ts'

export type AllReduceAlgorithm = 'flat' | 'hierarchical'

export interface ReduceLayout {
  algorithm: AllReduceAlgorithm
  /** member indices of each cluster, ascending; clusters ordered by their first member (flat: one) */
  clusters: number[][]
  /** the member index that leads each cluster */
  leaders: number[]
}

export interface ClusterOptions {
  /** clusters given by the caller (peer ids), instead of cut from the links */
  clusters?: readonly (readonly string[])[]
  /** links inside a cluster are at least this many times faster than the links between (default 2) */
  minGapRatio?: number
}

export function flatLayout(size: number): ReduceLayout {
  const all = Array.from({ length: size }, (_, i) => i)
  return { algorithm: 'flat', clusters: [all], leaders: [0] }
}

/**
 * Clusters cut from the links where bandwidth drops (sched's single-linkage clustering, the one
 * OP-Fence uses), or the caller's; each led by the member whose slowest link out of its cluster is
 * the fastest (ties: the lower index).
 */
export function hierarchicalLayout(matrix: LinkMatrix, options: ClusterOptions = {}): ReduceLayout {
  const ids = matrix.ids
  const groups =
    options.clusters ?? clusterPeers(matrix, { minGapRatio: options.minGapRatio }).map((c) => c.peers)
  const clusters = clusterIndices(ids, groups)
  const leaders = clusters.map((cluster) => leaderOf(matrix, cluster))
  return { algorithm: 'hierarchical', clusters, leaders }
}

/** Peer-id clusters as sorted member indices, checked to cover every member exactly once. */
function clusterIndices(ids: readonly string[], groups: readonly (readonly string[])[]): number[][] {
  const index = new Map(ids.map((id, i) => [id, i]))
  const placed = new Set<number>()
  const clusters = groups.map((group, k) =>
    group.map((id) => {
      const i = index.get(id)
      if (i === undefined) throw new InvalidSyncOptionError(`clusters[${k}]: ${id} is not a member`)
      if (placed.has(i)) throw new InvalidSyncOptionError(`clusters[${k}]: ${id} is in two clusters`)
      placed.add(i)
      return i
    }),
  )
  if (placed.size !== ids.length) {
    const missing = ids.filter((_, i) => !placed.has(i))
    throw new InvalidSyncOptionError(
      `clusters: expected every member in one, found none for ${missing.join(', ')}`,
    )
  }
  return clusters
    .filter((c) => c.length > 0)
    .map((c) => c.sort((a, b) => a - b))
    .sort((a, b) => a[0] - b[0])
}

function leaderOf(matrix: LinkMatrix, cluster: readonly number[]): number {
  const n = matrix.ids.length
  const inside = new Set(cluster)
  let best = cluster[0]
  let bestBw = -1
  for (const i of cluster) {
    let slowest = Number.POSITIVE_INFINITY
    for (let j = 0; j < n; j++) if (!inside.has(j)) slowest = Math.min(slowest, matrix.bw[i * n + j])
    if (slowest > bestBw) {
      best = i
      bestBw = slowest
    }
  }
  return best
}

/** The text every replica hashes into the fingerprint: members, algorithm, clusters and leaders. */
export function describeLayout(members: readonly string[], layout: ReduceLayout): string {
  const clusters = layout.clusters.map((c) => c.join('.')).join('|')
  return `${layout.algorithm};${members.join(',')};${clusters};${layout.leaders.join('.')}`
}
