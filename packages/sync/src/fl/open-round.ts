/**
 * A round while it is open: its record, each selected client's assignment and record entry, the
 * accepted updates; and the envelope checks of an update (who sent it, for which round, when),
 * which come before its content is looked at.
 */
import type { FlContribution } from './aggregate.ts'
import type { FlClientInfo, FlClientRecord, FlRoundRecord } from './round-record.ts'
import { assignKeepRatios, encodingOf, type FlStrategy } from './strategy.ts'
import type { FlAssignment, FlClientUpdate, FlRejectionKind } from './update.ts'

export interface SelectedClient {
  assignment: FlAssignment
  /** the client's entry in the round's record (updated in place as the round goes on) */
  entry: FlClientRecord
}

export interface OpenRound {
  record: FlRoundRecord
  /** in client id order */
  assignments: FlAssignment[]
  selected: Map<string, SelectedClient>
  accepted: Map<string, FlContribution>
}

/** A round over the selected clients (in id order), their keep ratios assigned by the strategy. */
export function openRound(
  strategy: FlStrategy,
  selected: readonly FlClientInfo[],
  round: number,
  nowMs: number,
  deadlineMs: number,
): OpenRound {
  const ratios = assignKeepRatios(strategy, selected)
  const encoding = encodingOf(strategy)
  const clients: SelectedClient[] = selected.map((info) => {
    const keepRatio = ratios.get(info.client) as number
    return {
      assignment: { client: info.client, round, keepRatio, encoding, deadlineMs },
      entry: { ...info, keepRatio, status: 'waiting' },
    }
  })
  const record: FlRoundRecord = {
    round,
    strategy: strategy.name,
    startedAtMs: nowMs,
    deadlineMs,
    clients: clients.map((c) => c.entry),
    rejections: [],
    contributors: [],
    applied: false,
  }
  return {
    record,
    assignments: clients.map((c) => c.assignment),
    selected: new Map(clients.map((c) => [c.assignment.client, c])),
    accepted: new Map(),
  }
}

/** Why an update cannot be looked at (unregistered, wrong round, not selected, settled, late), if so. */
export function envelopeRefusal(
  open: OpenRound | undefined,
  registered: boolean,
  update: FlClientUpdate,
  nowMs: number,
): { kind: FlRejectionKind; reason: string } | undefined {
  const { client, round } = update
  if (!registered) return { kind: 'unregistered', reason: `client '${client}' is not registered` }
  if (open === undefined || round !== open.record.round) {
    const expected = open === undefined ? 'no round is open' : `round ${open.record.round} is open`
    return { kind: 'wrong-round', reason: `update for round ${round}, ${expected}` }
  }
  const selected = open.selected.get(client)
  if (selected === undefined) {
    return { kind: 'not-selected', reason: `client '${client}' is not selected for round ${round}` }
  }
  if (selected.entry.status !== 'waiting') {
    return { kind: 'duplicate', reason: `client '${client}' is already ${selected.entry.status}` }
  }
  if (nowMs > open.record.deadlineMs) {
    return { kind: 'late', reason: `${nowMs - open.record.deadlineMs} ms after round ${round}'s deadline` }
  }
  return undefined
}
