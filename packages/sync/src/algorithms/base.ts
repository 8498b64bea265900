/**
 * What every algorithm shares: the roster and its changes, the round counter, the replica channel
 * (state for joiners, asks for a round's outcome and the answers), the record of events, and the
 * rounds themselves (rounds.ts). Each algorithm's file adds its hooks and its own state.
 */
import type { Parameter } from '@atoll/runtime'
import { type LinkProfile, transferSeconds } from '@atoll/sched'
import type { SyncGroup } from '../group.ts'
import { memberLinks, slowestLink } from '../links.ts'
import { deadlineSeconds } from '../time-model.ts'
import { RoundAnswers } from './answers.ts'
import { MAX_HISTORY } from './constants.ts'
import { SynchronizerUsageError } from './errors.ts'
import type { SyncEvent } from './events.ts'
import { openReplicaGate } from './gate.ts'
import { ReplicaChannel } from './replica-channel.ts'
import { Roster } from './roster.ts'
import { type RoundContext, type RoundRequest, type RoundResult, runRound } from './rounds.ts'
import type { SynchronizerSpec } from './spec.ts'
import { receiveReplicaState, sendReplicaState } from './state-transfer.ts'
import type { Synchronizer, SynchronizerOptions, SynchronizerState, TrainingReplica } from './synchronizer.ts'

export abstract class SynchronizerBase implements Synchronizer {
  readonly spec: SynchronizerSpec
  readonly history: SyncEvent[] = []
  protected readonly group: SyncGroup
  protected readonly options: SynchronizerOptions
  protected readonly roster: Roster
  protected readonly channel: ReplicaChannel
  readonly #answers: RoundAnswers
  readonly #listeners = new Set<(event: SyncEvent) => void>()
  readonly #stopRejections: () => void
  readonly #closeGate: () => void
  #links: readonly LinkProfile[]
  #round: number

  constructor(spec: SynchronizerSpec, group: SyncGroup, options: SynchronizerOptions) {
    if (options.mesh.peerId !== group.peerId)
      throw new SynchronizerUsageError(
        `mesh: expected the group's (${group.peerId}), found ${options.mesh.peerId}`,
      )
    this.spec = spec
    this.group = group
    this.options = options
    this.#links = options.links
    this.#round = group.round
    this.roster = new Roster(group.members)
    this.channel = new ReplicaChannel({
      mesh: options.mesh,
      group: group.group,
      isMember: (peer) => this.roster.eventual.includes(peer),
      reject: ({ kind, ...rejection }) =>
        this.emit({ kind: 'rejected', channel: 'replica', rejection: kind, ...rejection }),
      asked: (from, round) => this.#answers.asked(from, round),
    })
    this.#answers = new RoundAnswers(this.channel, (to, round, what, err) =>
      this.emit({ kind: 'send-failed', to, round, what, reason: err.message }),
    )
    if (options.joining) this.channel.expectState()
    this.#closeGate = openReplicaGate(options.mesh, {
      group: group.group,
      isMember: (peer) => this.roster.eventual.includes(peer),
    })
    this.#stopRejections = group.onReject(({ kind, ...rejection }) =>
      this.emit({ kind: 'rejected', channel: 'collective', rejection: kind, ...rejection }),
    )
  }

  abstract gradients(step: number, params: readonly Parameter[]): Promise<void>
  abstract parameters(step: number, params: readonly Parameter[]): Promise<void>
  /** The names and lengths of this algorithm's state for `params` (what a joiner expects). */
  protected abstract stateTemplate(params: readonly Parameter[]): Map<string, number>
  protected abstract stateTensors(): Map<string, Float32Array>
  protected abstract loadState(tensors: ReadonlyMap<string, Float32Array>): void

  get round(): number {
    return this.#round
  }

  get members(): readonly string[] {
    return this.roster.eventual
  }

  async settle(): Promise<void> {}

  updateLinks(links: readonly LinkProfile[]): void {
    memberLinks(this.roster.eventual, links) // every pair must be measured: fail here, not in a round
    this.#links = links
  }

  protected get links(): readonly LinkProfile[] {
    return this.#links
  }

  leave(peer: string): void {
    this.roster.schedule({ kind: 'leave', peer, round: this.#round })
    this.emit({ kind: 'membership', round: this.#round, change: 'leave', peer })
  }

  async admit(peer: string, replica: TrainingReplica & { nextStep: number }, links?: readonly LinkProfile[]) {
    await this.settle()
    const donor = this.roster.eventual[0]
    this.roster.schedule({ kind: 'join', peer, round: this.#round })
    this.updateLinks(links ?? this.#links)
    this.emit({ kind: 'membership', round: this.#round, change: 'join', peer })
    if (donor !== this.group.peerId) return
    const tensors = this.stateTensors()
    const sent = await sendReplicaState(this.channel, peer, { ...replica, round: this.#round, tensors })
    this.emit({ kind: 'state', direction: 'sent', peer, round: this.#round, ...sent })
  }

  async receiveState(replica: TrainingReplica): Promise<{ nextStep: number }> {
    this.channel.expectState()
    const template = this.stateTemplate(replica.params)
    const seconds = (bytes: number) => this.waitSeconds(bytes)
    const got = await receiveReplicaState(this.channel, replica, { round: this.#round, template, seconds })
    this.loadState(got.tensors)
    this.emit({ kind: 'state', direction: 'received', peer: got.from, round: this.#round, ...got.counts })
    return { nextStep: got.nextStep }
  }

  exportState(): SynchronizerState {
    return { round: this.#round, tensors: this.stateTensors() }
  }

  importState(state: SynchronizerState): void {
    if (state.round !== this.#round)
      throw new SynchronizerUsageError(
        `state: round ${state.round}, but the group starts at round ${this.#round}`,
      )
    this.loadState(state.tensors)
  }

  onEvent(listener: (event: SyncEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  close(): void {
    this.#closeGate()
    this.#stopRejections()
    this.channel.close()
  }

  protected emit(event: SyncEvent): void {
    this.history.push(event)
    if (this.history.length > MAX_HISTORY) this.history.splice(0, this.history.length - MAX_HISTORY)
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch {
        // a listener's failure is its own; training goes on
      }
    }
  }

  /** Runs the next round (numbered here, the same on every replica) over `request`'s tensors. */
  protected runNextRound(request: Omit<RoundRequest, 'round'>): Promise<RoundResult> {
    const round = this.#round++
    return runRound(this.#roundContext, { ...request, round })
  }

  /** Seconds to wait for `bytes` from one member: a deadline over the slowest member link, twice (a retry, then the send). */
  protected waitSeconds(bytes: number): number {
    const members = this.roster.eventual
    const link = slowestLink(
      memberLinks(members, this.#links),
      members.map((_, i) => i),
    )
    return deadlineSeconds(
      2 * transferSeconds(bytes, link.bandwidthBps, link.rttSeconds),
      this.options.deadline,
    )
  }

  get #roundContext(): RoundContext {
    return {
      group: this.group,
      roster: this.roster,
      channel: this.channel,
      answers: this.#answers,
      deadline: this.options.deadline,
      links: () => this.#links,
      // the others may retry once per member before their round completes and they can answer
      outcomeSeconds: (bytes) => this.roster.eventual.length * this.waitSeconds(bytes),
      emit: (event) => this.emit(event),
    }
  }
}
