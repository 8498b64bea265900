/**
 * What a synchronizer records: every round (who took part, whether this replica was left out and
 * caught up), DreamDDP's schedules and periods (layers averaged, measured against predicted wait),
 * roster changes, state sent to joiners, and every message it refused with the reason. A job logs
 * them; tests read `history`.
 */
import type { RejectionKind } from '../slot.ts'

export type RoundWhat = 'gradients' | 'parameters' | 'pseudo-gradients' | 'layers' | 'plan'

export interface RoundEvent {
  kind: 'round'
  round: number
  step: number
  what: RoundWhat
  /** the collectives' names */
  names: string[]
  /** members whose values made the means, in member order ([] when left out and no member told) */
  contributors: string[]
  /** whether this replica's values are in the means (and it applied them) */
  included: boolean
  /** this replica's own collective failed and a member that completed the round told it the outcome */
  caughtUp: boolean
  /** members of the round left out of it (as far as this replica knows) */
  excluded: string[]
  /** attempts: 1, plus one per retry without late members */
  attempts: number
  seconds: number
}

export interface ScheduleEvent {
  kind: 'schedule'
  period: number
  reason: 'first' | 'drift' | 'forced'
  /** layer → iterations of the period in which it is averaged */
  schedule: Record<string, number[]>
  /** the solver's predicted wait of each iteration */
  waitPerIteration: number[]
  /** the compute each iteration's averaging overlaps with (the next iteration's forward and backward) */
  windowSeconds: number
  /** predicted all-reduce seconds per layer over the measured links */
  commSeconds: Record<string, number>
}

export interface PeriodEvent {
  kind: 'period'
  period: number
  /** layers averaged in each iteration of the period (by this replica: [] where it was left out) */
  layers: string[][]
  /** the iterations' wait the schedule predicted (expectedWait), and what they waited */
  predictedWaitSeconds: number
  measuredWaitSeconds: number
  /** the blocking agreement on the schedule's inputs at the period's start: not a wait the solver models */
  agreementSeconds: number
}

export type SyncEvent =
  | RoundEvent
  | ScheduleEvent
  | PeriodEvent
  | { kind: 'membership'; round: number; change: 'leave' | 'join'; peer: string }
  | {
      kind: 'state'
      direction: 'sent' | 'received'
      peer: string
      tensors: number
      bytes: number
      round: number
    }
  | {
      kind: 'rejected'
      /** `collective`: a sync message (the group's check); `replica`: state, asks and answers */
      channel: 'collective' | 'replica'
      rejection: RejectionKind
      from: string
      edge: string
      round: number
      reason: string
    }
  /** this replica kept its own values where the others' means should have come (no member told it the round's outcome) */
  | { kind: 'diverged'; round: number; reason: string }
  | { kind: 'send-failed'; to: string; round: number; what: string; reason: string }
