/**
 * How long an all-reduce should take over the measured links, and the deadline that follows from it.
 * One model serves the choice between flat and hierarchical and every collective's deadline, so a
 * deadline is as tight as the prediction that chose the algorithm.
 */
import { allReduceSeconds, type LinkMatrix, type LinkProfile, transferSeconds } from '@atoll/sched'
import {
  DEFAULT_DEADLINE_FLOOR_SECONDS,
  DEFAULT_DEADLINE_SLACK,
  DEFAULT_MESSAGE_SECONDS,
} from './constants.ts'
import { InvalidSyncOptionError } from './errors.ts'
import { type ClusterOptions, flatLayout, hierarchicalLayout, type ReduceLayout } from './layout.ts'
import { checkMembers, memberLinks, slowestLink } from './links.ts'

export interface DeadlineOptions {
  /** the prediction is multiplied by this (default 3) */
  slack?: number
  /** and this many seconds are added (default 2) */
  floorSeconds?: number
  /** what one message costs beyond its bytes, sent or received (default 1 ms) */
  messageSeconds?: number
}

/**
 * Predicted seconds of an all-reduce of `bytes` dense bytes with `layout`; `wireRatio` scales what
 * crosses the slow links (the flat exchange, or the leaders' exchange of a hierarchical one — the
 * hops inside a cluster travel dense). Flat: sched's ring model over the slowest member link,
 * 2(n−1)/n × bytes / bandwidth + (n−1) RTT (the flat exchange moves a ring's bytes per member, in
 * fewer hops). Hierarchical: every cluster's members send their whole tensor to the leader, the
 * leaders all-reduce, and each leader sends the sum back to its members, the leader's link carrying
 * (m−1) tensors each way.
 */
export function predictAllReduceSeconds(
  layout: ReduceLayout,
  matrix: LinkMatrix,
  bytes: number,
  wireRatio = 1,
): number {
  const flat = (indices: readonly number[], size: number) => {
    const link = slowestLink(matrix, indices)
    return allReduceSeconds(size, indices.length, link.bandwidthBps, link.rttSeconds)
  }
  if (layout.algorithm === 'flat') return flat(layout.clusters[0], bytes * wireRatio)
  let inside = 0
  for (const cluster of layout.clusters) {
    if (cluster.length < 2) continue
    const link = slowestLink(matrix, cluster)
    inside = Math.max(
      inside,
      transferSeconds((cluster.length - 1) * bytes, link.bandwidthBps, link.rttSeconds),
    )
  }
  return 2 * inside + flat(layout.leaders, bytes * wireRatio)
}

/**
 * slack × (predicted + messages × messageSeconds) + floor: a deadline from the measured links (and
 * from the member's message count, whose fixed costs the links' bandwidth does not show), never a
 * fixed timeout.
 */
export function deadlineSeconds(
  predictedSeconds: number,
  options: DeadlineOptions = {},
  messages = 0,
): number {
  const {
    slack = DEFAULT_DEADLINE_SLACK,
    floorSeconds = DEFAULT_DEADLINE_FLOOR_SECONDS,
    messageSeconds = DEFAULT_MESSAGE_SECONDS,
  } = options
  if (!(slack >= 1 && Number.isFinite(slack))) {
    throw new InvalidSyncOptionError(`deadline.slack: expected a finite number ≥ 1, found ${slack}`)
  }
  for (const [field, value] of [
    ['floorSeconds', floorSeconds],
    ['messageSeconds', messageSeconds],
  ] as const) {
    if (!(value >= 0 && Number.isFinite(value))) {
      throw new InvalidSyncOptionError(`deadline.${field}: expected a finite number ≥ 0, found ${value}`)
    }
  }
  return slack * (predictedSeconds + messages * messageSeconds) + floorSeconds
}

/**
 * Messages one member sends and receives at most in an all-reduce of `length` elements: the flat
 * exchange sends and receives (n−1) chunks' pieces in each of its two phases; a hierarchical one adds
 * a leader's (m−1) whole tensors in and out.
 */
export function messagesPerMember(layout: ReduceLayout, length: number, pieceElements: number): number {
  const flat = (members: number) =>
    members < 2 ? 0 : 4 * (members - 1) * Math.ceil(length / (members * pieceElements))
  if (layout.algorithm === 'flat') return flat(layout.clusters[0].length)
  const cluster = Math.max(...layout.clusters.map((c) => c.length))
  return 2 * (cluster - 1) * Math.ceil(length / pieceElements) + flat(layout.leaders.length)
}

export interface AllReduceChoice {
  /** the faster layout by the model (flat on a tie: fewer hops, no leader) */
  layout: ReduceLayout
  predictedSeconds: number
  /** both predictions, for logs and benchmarks */
  flatSeconds: number
  hierarchicalSeconds: number
}

/** Picks flat or hierarchical for `matrix` by predicted time (see predictAllReduceSeconds). */
export function chooseLayout(
  matrix: LinkMatrix,
  bytes: number,
  options: ClusterOptions & { wireRatio?: number } = {},
): AllReduceChoice {
  const flat = flatLayout(matrix.ids.length)
  const hierarchical = hierarchicalLayout(matrix, options)
  const flatSeconds = predictAllReduceSeconds(flat, matrix, bytes, options.wireRatio)
  const hierarchicalSeconds = predictAllReduceSeconds(hierarchical, matrix, bytes, options.wireRatio)
  const useHierarchy = hierarchical.clusters.length > 1 && hierarchicalSeconds < flatSeconds
  return {
    layout: useHierarchy ? hierarchical : flat,
    predictedSeconds: useHierarchy ? hierarchicalSeconds : flatSeconds,
    flatSeconds,
    hierarchicalSeconds,
  }
}

/**
 * Which all-reduce suits `bytes` over these members and links: the pure function a job or a
 * benchmark calls before any collective runs (SyncGroup.allReduce makes the same choice itself).
 */
export function chooseAllReduce(
  members: readonly string[],
  links: readonly LinkProfile[],
  bytes: number,
  options: ClusterOptions & { wireRatio?: number } = {},
): AllReduceChoice {
  return chooseLayout(memberLinks(checkMembers(members), links), bytes, options)
}
