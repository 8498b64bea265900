/**
 * One synchronisation round with late replicas: the round's members (the roster's, so a replica late
 * in the previous round is back) all-reduce the round's tensors; when members miss the deadline, every
 * member that waited on them fails with the same LateReplicaError, and then:
 *
 * - a member not named excludes the named ones and runs the whole round again (every tensor, also
 *   those that had completed, so that all of a round's means have the same contributors), until it
 *   succeeds; the means divide by the members that contributed;
 * - a member that finds itself named (from the others' notices; by itself, when it found every
 *   other member late; or because it has excluded everyone else and is alone) is left out: it asks
 *   the other members for the round's outcome (answers.ts) and takes the first whole answer — the
 *   means and who contributed — waiting longer while members say the round still runs there. If
 *   its own values were in them after all (the members' views of who was late differed), it applies
 *   the means as the others did; if not, it keeps its own values, or, where the algorithm needs the
 *   replicas equal (`adopt`), applies the means. It is a member again in the next round.
 *
 * So every replica applies each round once, with the same means as every other replica that took
 * part. Rounds are numbered by the synchronizer, the same on every replica (SyncGroup refuses
 * messages more than one round ahead, so rounds go up by one).
 */
import type { LinkProfile } from '@atoll/sched'
import type { SyncCompression } from '../codec.ts'
import { DEFAULT_DEADLINE_FLOOR_SECONDS } from '../constants.ts'
import { LateReplicaError } from '../errors.ts'
import type { SyncGroup } from '../group.ts'
import type { DeadlineOptions } from '../time-model.ts'
import { MAX_OUTCOME_WAITS } from './constants.ts'
import { MembershipError } from './errors.ts'
import type { RoundEvent, RoundWhat, SyncEvent } from './events.ts'
import { CONTRIBUTORS, type RoundAnswers } from './answers.ts'
import type { ReplicaChannel } from './replica-channel.ts'
import type { Roster } from './roster.ts'

export interface RoundTensor {
  name: string
  data: Float32Array
}

export interface RoundRequest {
  round: number
  step: number
  what: RoundWhat
  tensors: readonly RoundTensor[]
  compression: SyncCompression
  /** one after another in the given order (DreamDDP's FIFO channel), not all at once */
  sequential?: boolean
  /** a member left out applies the means of the members that took part (default: keeps its own values) */
  adopt?: boolean
}

export interface RoundResult extends RoundEvent {
  /** the contributors' means by name; undefined when left out and not caught up */
  means?: Map<string, Float32Array>
}

/** What a round needs from its synchronizer. */
export interface RoundContext {
  group: SyncGroup
  roster: Roster
  channel: ReplicaChannel
  answers: RoundAnswers
  /** the deadline options the group was given (retries lengthen them) */
  deadline?: DeadlineOptions
  links(): readonly LinkProfile[]
  /** how long a member left out waits for the outcome of a round of `bytes` */
  outcomeSeconds(bytes: number): number
  emit(event: SyncEvent): void
}

export async function runRound(context: RoundContext, request: RoundRequest): Promise<RoundResult> {
  const started = performance.now()
  const { group } = context
  const members = [...context.roster.at(request.round)]
  if (!members.includes(group.peerId))
    throw new MembershipError(`round ${request.round}: this replica (${group.peerId}) has left`)
  restoreMembers(context, members)
  group.advance(request.round)
  context.channel.advance(request.round)
  context.answers.started(request.round)
  for (let attempts = 1; ; attempts++) {
    const taking = [...group.members]
    const record = (fields: Outcome) => finish(context, request, { ...fields, attempts, started })
    // alone after excluding every other member: this one is the late one whose notices were lost
    const outcome =
      taking.length > 1
        ? await attempt(group, request, retryDeadline(context.deadline, attempts))
        : members.length > 1
          ? { late: taking }
          : { sums: alone(request) }
    if ('sums' in outcome) {
      const means = divide(outcome.sums, taking.length)
      const excluded = members.filter((m) => !taking.includes(m))
      context.answers.completed(request.round, members, taking, means)
      restoreMembers(context, members)
      return record({ contributors: taking, included: true, caughtUp: false, excluded, means })
    }
    if (outcome.late.includes(group.peerId)) {
      const left = await leftOut(context, request, members)
      restoreMembers(context, members)
      return record(left)
    }
    group.exclude(outcome.late)
  }
}

/** The links each group last had from its synchronizer: the matrix is rebuilt only when they or the members change. */
const appliedLinks = new WeakMap<SyncGroup, readonly LinkProfile[]>()

/**
 * The round's members back on the group: at a round's start (a member left out of the last round is
 * one again), and at its end, so that the next round's messages from a member excluded in this one
 * are admitted before this replica starts that round (the others may start it first).
 */
function restoreMembers(context: RoundContext, members: readonly string[]): void {
  const { group } = context
  const links = context.links()
  const same = group.members.length === members.length && group.members.every((m, i) => m === members[i])
  if (same && appliedLinks.get(group) === links) return
  group.setMembers(members, links)
  appliedLinks.set(group, links)
}

type Outcome = Pick<RoundResult, 'contributors' | 'included' | 'caughtUp' | 'excluded' | 'means'>

function finish(
  context: RoundContext,
  request: RoundRequest,
  outcome: Outcome & { attempts: number; started: number },
): RoundResult {
  const { means, started, ...rest } = outcome
  const event: RoundEvent = {
    kind: 'round',
    round: request.round,
    step: request.step,
    what: request.what,
    names: request.tensors.map((t) => t.name),
    ...rest,
    seconds: (performance.now() - started) / 1000,
  }
  context.emit(event)
  return { ...event, means }
}

/** One try at every tensor of the round: the sums, or the members named late (in member order). */
async function attempt(
  group: SyncGroup,
  request: RoundRequest,
  deadline: DeadlineOptions | undefined,
): Promise<{ sums: Map<string, Float32Array> } | { late: string[] }> {
  const options = { compression: request.compression, deadline }
  const run = (t: RoundTensor) => group.allReduce(request.round, t.data, { ...options, name: t.name })
  const settled: PromiseSettledResult<Float32Array>[] = []
  if (request.sequential) {
    for (const t of request.tensors) {
      const [one] = await Promise.allSettled([run(t)])
      settled.push(one)
      if (one.status === 'rejected') break
    }
  } else settled.push(...(await Promise.allSettled(request.tensors.map(run))))
  const late = new Set<string>()
  for (const s of settled) {
    if (s.status === 'fulfilled') continue
    if (!(s.reason instanceof LateReplicaError)) throw s.reason
    for (const peer of s.reason.peers) late.add(peer)
  }
  if (late.size > 0) return { late: group.members.filter((m) => late.has(m)) }
  const sums = new Map<string, Float32Array>()
  settled.forEach((s, i) => {
    sums.set(request.tensors[i].name, (s as PromiseFulfilledResult<Float32Array>).value)
  })
  return { sums }
}

/**
 * The deadline of attempt `attempts`: the group's own for the first; a retry follows a failure, which
 * on a busy machine may have been slowness rather than absence, so each retry gets a longer floor
 * (the members that were really late are out already).
 */
function retryDeadline(base: DeadlineOptions | undefined, attempts: number): DeadlineOptions | undefined {
  if (attempts === 1) return undefined
  const floorSeconds = (base?.floorSeconds ?? DEFAULT_DEADLINE_FLOOR_SECONDS) * attempts
  return { ...base, floorSeconds }
}

/** A round of one member: its own values are the sums (copied: the caller goes on writing them). */
function alone(request: RoundRequest): Map<string, Float32Array> {
  return new Map(request.tensors.map((t) => [t.name, Float32Array.from(t.data)]))
}

function divide(sums: Map<string, Float32Array>, contributors: number): Map<string, Float32Array> {
  if (contributors === 1) return sums
  for (const values of sums.values()) for (let i = 0; i < values.length; i++) values[i] /= contributors
  return sums
}

/**
 * The outcome of a round this member was left out of, from the first member that answers its ask;
 * without an answer it keeps its own values (and says so when the algorithm needed the means).
 */
async function leftOut(
  context: RoundContext,
  request: RoundRequest,
  members: readonly string[],
): Promise<Outcome> {
  const self = context.group.peerId
  context.answers.leftOut(request.round)
  const expected = new Map(request.tensors.map((t) => [t.name, t.data.length]))
  expected.set(CONTRIBUTORS, members.length)
  const bytes = 4 * request.tensors.reduce((sum, t) => sum + t.data.length, 0)
  const started = performance.now()
  const answer = await askForOutcome(context, request.round, members, expected, context.outcomeSeconds(bytes))
  if (answer === undefined) {
    if (request.adopt) {
      const seconds = (performance.now() - started) / 1000
      const reason = `left out of round ${request.round} and no member told its outcome within ${seconds.toFixed(1)} s: kept this replica's own values`
      context.emit({ kind: 'diverged', round: request.round, reason })
    }
    return { contributors: [], included: false, caughtUp: false, excluded: [self] }
  }
  const mask = answer.get(CONTRIBUTORS) as Float32Array
  const contributors = members.filter((_, i) => mask[i] > 0)
  answer.delete(CONTRIBUTORS)
  const included = contributors.includes(self)
  const excluded = members.filter((m) => !contributors.includes(m))
  const means = included || request.adopt ? answer : undefined
  return { contributors, included, caughtUp: true, excluded, means }
}

/**
 * Asks every other member for round `round`'s outcome and waits `seconds` for a whole answer; asks
 * again and waits as long once more after each wait in which a member said the round still runs
 * there (the others may have started it late, or be retrying it without this member), up to
 * MAX_OUTCOME_WAITS waits. Undefined when no answer came.
 */
async function askForOutcome(
  context: RoundContext,
  round: number,
  members: readonly string[],
  expected: ReadonlyMap<string, number>,
  seconds: number,
): Promise<Map<string, Float32Array> | undefined> {
  const self = context.group.peerId
  for (let waits = 1; ; waits++) {
    const asked = performance.now()
    for (const peer of members) if (peer !== self) context.channel.ask(peer, round).catch(() => {})
    const answer = await context.channel.takeResults(round, expected, seconds)
    if (answer !== undefined) return answer
    if (waits >= MAX_OUTCOME_WAITS || !context.channel.heardRunning(round, asked)) return undefined
  }
}
