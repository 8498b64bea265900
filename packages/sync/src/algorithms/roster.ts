/**
 * Who takes part in each synchronisation round. Changes (a replica leaves, one joins) are scheduled
 * for a round and take effect at its start, never during one, so every replica that applies the
 * same changes sees the same ordered members in every round. A late replica is not a roster change:
 * it drops out of one round's attempt (rounds.ts) and is a member again in the next.
 */
import { MembershipError } from './errors.ts'

export interface RosterChange {
  kind: 'leave' | 'join'
  peer: string
  /** the first round it holds for */
  round: number
}

export class Roster {
  #members: string[]
  /** the round `#members` holds for; later changes are pending */
  #round = 0
  readonly #pending: RosterChange[] = []

  constructor(members: readonly string[]) {
    this.#members = [...members]
  }

  /**
   * The members of `round` (not before a round already asked for): pending changes up to it are
   * applied in the order they were scheduled. Joiners go last, so the order stays the same
   * everywhere.
   */
  at(round: number): readonly string[] {
    if (round < this.#round) throw new MembershipError(`round ${round} is before ${this.#round}`)
    this.#round = round
    const due = this.#pending.filter((c) => c.round <= round)
    for (const change of due) {
      this.#pending.splice(this.#pending.indexOf(change), 1)
      if (change.kind === 'leave') this.#members = this.#members.filter((m) => m !== change.peer)
      else if (!this.#members.includes(change.peer)) this.#members.push(change.peer)
    }
    return this.#members
  }

  /** The members once every scheduled change has happened. */
  get eventual(): readonly string[] {
    let members = [...this.#members]
    for (const change of this.#pending) {
      if (change.kind === 'leave') members = members.filter((m) => m !== change.peer)
      else if (!members.includes(change.peer)) members.push(change.peer)
    }
    return members
  }

  /** Schedules `peer` to leave or join from `round` on. */
  schedule(change: RosterChange): void {
    const members = this.eventual
    if (change.round < this.#round)
      throw new MembershipError(`${change.kind} ${change.peer}: round ${change.round} has begun`)
    if (change.kind === 'leave' && !members.includes(change.peer))
      throw new MembershipError(`leave: ${change.peer} is not a member`)
    if (change.kind === 'join' && members.includes(change.peer))
      throw new MembershipError(`join: ${change.peer} is a member already`)
    if (change.kind === 'leave' && members.length === 1)
      throw new MembershipError(`leave: ${change.peer} is the last member`)
    this.#pending.push(change)
  }
}
