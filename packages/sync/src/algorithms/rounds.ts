/**
 * One synchronisation round with late replicas: the round's members (the roster's, so a replica late
 * in the previous round is back) all-reduce the round's tensors; when members miss the deadline, every
 * member that waited on them fails with the same LateReplicaError, and then:
 *
 * - a member not named excludes the named ones and runs the whole round again (every tensor, also
 *   those that had completed, so that all of a round's means have the same contributors), until it
 *   succeeds; the means divide by the members that contributed;
 * - a member that finds itself named (from the others' notices, or because it named everyone else
 *   and is alone) is left out of this round: it keeps its own values, or, where the algorithm asks
 *   for it (`catchUp`), takes the round's means from the first member that took part, which sends
 *   them to every member left out. It is a member again in the next round.
 *
 * Rounds are numbered by the synchronizer, the same on every replica (SyncGroup refuses messages
 * more than one round ahead, so rounds go up by one).
 */
import type { LinkProfile } from '@atoll/sched'
import type { SyncCompression } from '../codec.ts'
import { LateReplicaError } from '../errors.ts'
import type { SyncGroup } from '../group.ts'
import { MembershipError } from './errors.ts'
import type { RoundEvent, RoundWhat, SyncEvent } from './events.ts'
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
  /** members left out take the means from one that took part */
  catchUp?: boolean
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
  links(): readonly LinkProfile[]
  /** how long a member left out waits for the catch-up of `bytes` */
  catchUpSeconds(bytes: number): number
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
  for (let attempts = 1; ; attempts++) {
    const taking = [...group.members]
    const record = (fields: Outcome) => finish(context, request, { ...fields, attempts, started })
    // alone after excluding every other member: this one is the late one whose notices were lost
    const outcome =
      taking.length > 1
        ? await attempt(group, request)
        : members.length > 1
          ? { late: taking }
          : { sums: alone(request) }
    if ('sums' in outcome) {
      const means = divide(outcome.sums, taking.length)
      const excluded = members.filter((m) => !taking.includes(m))
      if (request.catchUp && taking[0] === group.peerId) sendCatchUp(context, request.round, excluded, means)
      return record({ contributors: taking, included: true, caughtUp: false, excluded, means })
    }
    if (outcome.late.includes(group.peerId)) {
      const means = request.catchUp ? await catchUp(context, request) : undefined
      const caughtUp = means !== undefined
      return record({ contributors: [], included: false, caughtUp, excluded: outcome.late, means })
    }
    group.exclude(outcome.late)
  }
}

/** The links each group last had from its synchronizer: the matrix is rebuilt only when they or the members change. */
const appliedLinks = new WeakMap<SyncGroup, readonly LinkProfile[]>()

/** The round's members back on the group (a member left out of the last round is one again). */
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
): Promise<{ sums: Map<string, Float32Array> } | { late: string[] }> {
  const run = (t: RoundTensor) =>
    group.allReduce(request.round, t.data, { name: t.name, compression: request.compression })
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

/** A round of one member: its own values are the sums (copied: the caller goes on writing them). */
function alone(request: RoundRequest): Map<string, Float32Array> {
  return new Map(request.tensors.map((t) => [t.name, Float32Array.from(t.data)]))
}

function divide(sums: Map<string, Float32Array>, contributors: number): Map<string, Float32Array> {
  if (contributors === 1) return sums
  for (const values of sums.values()) for (let i = 0; i < values.length; i++) values[i] /= contributors
  return sums
}

/** The first contributor sends each left-out member the means (not awaited: the round is over here). */
function sendCatchUp(
  context: RoundContext,
  round: number,
  excluded: readonly string[],
  means: Map<string, Float32Array>,
): void {
  for (const peer of excluded) {
    for (const [name, values] of means) {
      context.channel.send(peer, 'result', round, name, values).catch((err: Error) => {
        context.emit({
          kind: 'send-failed',
          to: peer,
          round,
          what: `catch-up '${name}'`,
          reason: err.message,
        })
      })
    }
  }
}

/** The round's means from a member that took part, or undefined (and a `diverged` event) if none come. */
async function catchUp(
  context: RoundContext,
  request: RoundRequest,
): Promise<Map<string, Float32Array> | undefined> {
  const expected = new Map(request.tensors.map((t) => [t.name, t.data.length]))
  const bytes = 4 * request.tensors.reduce((sum, t) => sum + t.data.length, 0)
  const seconds = context.catchUpSeconds(bytes)
  const means = await context.channel.takeResults(request.round, expected, seconds)
  if (means === undefined) {
    const reason = `left out of round ${request.round}, no member sent its means within ${seconds.toFixed(1)} s: kept this replica's own`
    context.emit({ kind: 'diverged', round: request.round, reason })
  }
  return means
}
