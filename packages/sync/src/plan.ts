/**
 * Everything a collective fixes before it sends: the layout (flat, hierarchical, or the faster by
 * the time model), the codec, the fingerprint the replicas must share, and the deadlines that follow
 * from the predicted time. Pure: the same inputs give the same plan on every replica.
 */
import type { LinkMatrix } from '@atoll/sched'
import { checkCompression, describeCompression, type SyncCompression, wireRatio } from './codec.ts'
import { fingerprintOf } from './edge.ts'
import { InvalidSyncOptionError } from './errors.ts'
import {
  type ClusterOptions,
  describeLayout,
  flatLayout,
  hierarchicalLayout,
  type ReduceLayout,
} from './layout.ts'
import { slowestLink } from './links.ts'
import {
  chooseLayout,
  type DeadlineOptions,
  deadlineSeconds,
  messagesPerMember,
  predictAllReduceSeconds,
} from './time-model.ts'

export interface AllReduceOptions extends ClusterOptions {
  /**
   * Names the collective within its round (default 'sum'): tensors reduced in the same round need
   * different names, and top-k's residuals are kept per name.
   */
  name?: string
  /** 'auto' (default): the faster of the two by the time model over the measured links */
  algorithm?: 'auto' | 'flat' | 'hierarchical'
  /** what is sent (default none); hierarchical compresses only the leaders' exchange */
  compression?: SyncCompression
  /** overrides the group's deadline options for this collective */
  deadline?: DeadlineOptions
}

export interface CollectivePlan {
  layout: ReduceLayout
  compression: SyncCompression
  fingerprint: string
  predictedSeconds: number
  deadlineSeconds: number
  /** the wait, after the deadline, for another member's notice: one RTT's deadline */
  noticeSeconds: number
}

export function planCollective(
  matrix: LinkMatrix,
  length: number,
  pieceElements: number,
  options: AllReduceOptions,
  groupDeadline: DeadlineOptions,
): CollectivePlan {
  const compression = checkCompression(options.compression)
  const bytes = 4 * length
  const wire = wireRatio(compression)
  const algorithm = options.algorithm ?? 'auto'
  let layout: ReduceLayout
  if (algorithm === 'auto') layout = chooseLayout(matrix, bytes, { ...options, wireRatio: wire }).layout
  else if (algorithm === 'flat') layout = flatLayout(matrix.ids.length)
  else if (algorithm === 'hierarchical') layout = hierarchicalLayout(matrix, options)
  else throw new InvalidSyncOptionError(`algorithm: expected auto, flat or hierarchical, found ${algorithm}`)
  const predictedSeconds = predictAllReduceSeconds(layout, matrix, bytes, wire)
  const deadline = { ...groupDeadline, ...options.deadline }
  const everyone = matrix.ids.map((_, i) => i)
  const described = `${describeLayout(matrix.ids, layout)};${pieceElements};${describeCompression(compression)}`
  return {
    layout,
    compression,
    fingerprint: fingerprintOf(described),
    predictedSeconds,
    deadlineSeconds: deadlineSeconds(
      predictedSeconds,
      deadline,
      messagesPerMember(layout, length, pieceElements),
    ),
    noticeSeconds: deadlineSeconds(slowestLink(matrix, everyone).rttSeconds, deadline),
  }
}
