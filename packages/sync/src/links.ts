/**
 * The measured links between a group's members, as @atoll/sched's dense matrix: what the time model,
 * the clustering and the deadlines read. Every pair of members must have been measured.
 */
import { type LinkMatrix, type LinkProfile, linkMatrix, type PeerProfile, parseLinks } from '@atoll/sched'
import { MAX_MEMBERS } from './constants.ts'
import { InvalidSyncOptionError } from './errors.ts'

/** The slowest bandwidth and the longest RTT among a set of members' pairwise links. */
export interface SlowestLink {
  bandwidthBps: number
  rttSeconds: number
}

/** Checks the member list: 1 to MAX_MEMBERS distinct, non-empty peer ids. */
export function checkMembers(members: readonly string[]): string[] {
  if (members.length < 1 || members.length > MAX_MEMBERS) {
    throw new InvalidSyncOptionError(
      `members: expected 1 to ${MAX_MEMBERS} peer ids, found ${members.length}`,
    )
  }
  const seen = new Set<string>()
  for (const [i, id] of members.entries()) {
    if (typeof id !== 'string' || id === '') {
      throw new InvalidSyncOptionError(`members[${i}]: expected a peer id, found ${String(id)}`)
    }
    if (seen.has(id)) throw new InvalidSyncOptionError(`members[${i}]: ${id} is listed twice`)
    seen.add(id)
  }
  return [...members]
}

/**
 * The link matrix over `members` (in their order) from measured links, parsed with sched's schema;
 * links to peers outside the group are ignored. Throws InvalidSyncOptionError for a missing pair.
 */
export function memberLinks(members: readonly string[], links: readonly LinkProfile[]): LinkMatrix {
  const inGroup = new Set(members)
  const own = parseLinks(links).filter((link) => inGroup.has(link.a) && inGroup.has(link.b))
  // linkMatrix reads only the peers' ids; the other profile fields do not enter the matrix
  const peers: PeerProfile[] = members.map((id) => ({ id, device: 'unknown', flops: 0, memoryBytes: 0 }))
  const matrix = linkMatrix(peers, own)
  const n = members.length
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (!(matrix.bw[i * n + j] > 0)) {
        throw new InvalidSyncOptionError(
          `links: expected a measured link between ${members[i]} and ${members[j]}, found none`,
        )
      }
    }
  }
  return matrix
}

/** The slowest link among the members at `indices` (one member: an infinitely fast, instant link). */
export function slowestLink(matrix: LinkMatrix, indices: readonly number[]): SlowestLink {
  const n = matrix.ids.length
  let bandwidthBps = Number.POSITIVE_INFINITY
  let rttSeconds = 0
  for (const i of indices) {
    for (const j of indices) {
      if (i === j) continue
      bandwidthBps = Math.min(bandwidthBps, matrix.bw[i * n + j])
      rttSeconds = Math.max(rttSeconds, matrix.rtt[i * n + j])
    }
  }
  return { bandwidthBps, rttSeconds }
}
