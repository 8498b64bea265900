/**
 * The record of one federated round, as a server's page or log shows it: who was selected with what
 * bandwidth and keep ratio, what each sent (bytes, when), who was accepted, refused (with the reason)
 * or dropped for missing the deadline, and every refused update that claimed the round.
 */
import type { FlStrategyName } from './aggregate.ts'
import type { FlRejection } from './update.ts'

export interface FlClientInfo {
  client: string
  /** measured upload bandwidth, bytes per second */
  bandwidthBps: number
  /** p_k: the client's training samples, its weight in the average */
  samples: number
}

/** waiting: selected, nothing taken yet; dropped: missed the deadline or left during the round */
export type FlClientStatus = 'waiting' | 'accepted' | 'rejected' | 'dropped'

/** A selected client in a round: its figures when the round started, and what became of its update. */
export interface FlClientRecord extends FlClientInfo {
  keepRatio: number
  status: FlClientStatus
  /** payload bytes of the update taken or refused (content refusals only) */
  bytes?: number
  /** bytes / bandwidthBps: the upload time the measured bandwidth predicts */
  predictedUploadSeconds?: number
  /** when the update was taken or refused, ms after the round started (the caller's clock) */
  arrivedAfterMs?: number
  /** why it was refused or dropped */
  reason?: string
}

export interface FlRoundRecord {
  round: number
  strategy: FlStrategyName
  startedAtMs: number
  deadlineMs: number
  /** set when the round is finished */
  finishedAtMs?: number
  /** the selected clients, in id order (the aggregation order) */
  clients: FlClientRecord[]
  /** every refused update that claimed this round or arrived while it was open, strangers' included */
  rejections: FlRejection[]
  /** the clients whose updates were aggregated, in aggregation order */
  contributors: string[]
  /** whether the server step was applied (false when no update was accepted: the model is unchanged) */
  applied: boolean
}
