/**
 * How the replicas of a job's stage keep in step: one sync group per stage over the mesh
 * (`<job>/stage-<s>`), its members the stage's replicas in replica order (the order sums are taken
 * in, the same on every replica), and the job file's algorithm on it (@atoll/sync). The stage job
 * calls `gradients` once its backward is done and `parameters` once its update is applied.
 */
import { type AtollMesh, multiaddr, peerIdFromString } from '@atoll/net'
import type { Parameter } from '@atoll/runtime'
import type { LinkProfile } from '@atoll/sched'
import {
  createSynchronizer,
  type PeriodEvent,
  parseSynchronizerSpec,
  roundAtStep,
  type SyncEvent,
  SyncGroup,
  type SynchronizerState,
  type TrainingReplica,
} from '@atoll/sync'
import type { GradientRound } from './agreement.ts'
import type { Assignment } from './rpc.ts'

export interface ReplicaSync {
  /** after backward (S-SGD: every gradient becomes the replicas' mean) */
  gradients(step: number, params: readonly Parameter[]): Promise<void>
  /** after the update (Local SGD, DreamDDP, DiLoCo: parameters averaged when the algorithm says) */
  parameters(step: number, params: readonly Parameter[]): Promise<void>
  /** payload bytes this replica's collectives have sent so far */
  bytesSent(): number
  /** waits for averaging still in flight and applies it (DreamDDP's; before a checkpoint is taken) */
  settle(): Promise<void>
  /** DreamDDP's periods ended since the last call: layers averaged, measured against predicted wait */
  takePeriods(): PeriodEvent[]
  /** S-SGD's gradient rounds since the last call, as this replica applied them */
  takeGradientRounds(): GradientRound[]
  /** the sync round this replica runs next, and the group's members then (in the order sums are taken) */
  readonly round: number
  readonly members: readonly string[]
  /** the synchronizer's own state (DiLoCo's anchor and momentum, DreamDDP's schedule inputs) */
  exportState(): SynchronizerState
  /**
   * `peer` joins from the next round; the first member sends it `replica`'s state, to start at
   * `nextStep`; `links`: the measured links, the joiner's among them
   */
  admit(
    peer: string,
    replica: TrainingReplica,
    nextStep: number,
    links: readonly LinkProfile[],
  ): Promise<void>
  /** a joiner: waits for a live replica's state, loads it into `replica`; the step to start at */
  receiveState(replica: TrainingReplica): Promise<{ nextStep: number }>
  close(): void
}

/** How a replica's group is formed other than at the job's start. */
export interface RegroupOptions {
  /** the round the group starts at (default: the job's step's, or 0 for DreamDDP) */
  round?: number
  /** the synchronizer's state to go on from (a regroup: this replica's own, from its last group) */
  state?: SynchronizerState
  /** a joiner: state messages are kept from the start, for receiveState */
  joining?: boolean
  /** the members in the live replicas' order (a joiner's; default the stage's replicas in replica order) */
  members?: readonly string[]
}

/** Where a synchronizer's events go: the worker's log, the job's records. */
export interface SyncLog {
  info(fields: object, message: string): void
  warn(fields: object, message: string): void
  debug(fields: object, message: string): void
}

/** The sync group name of a job's stage: it tags the replicas' messages as a job id tags a pipeline's. */
export function syncGroupName(job: string, stage: number): string {
  return `${job}/stage-${stage}`
}

/**
 * The stage's synchronisation, or undefined when it has no replicas to keep in step with. Its members
 * are the stage's live replicas in `assignment.members` (a pipeline that lost a peer is not listed).
 */
export async function replicaSync(
  assignment: Assignment,
  mesh: AtollMesh,
  log: SyncLog,
  compute: 'cpu' | 'gpu',
  options: RegroupOptions = {},
): Promise<ReplicaSync | undefined> {
  const { sync, replica, stage } = assignment
  if (sync === undefined || replica.count === 1) return undefined
  const spec = parseSynchronizerSpec(sync.spec, 'sync')
  const replicas = assignment.members
    .filter((m) => m.stage === stage.index)
    .sort((a, b) => a.replica - b.replica)
  await learnAddresses(mesh, replicas)
  const members = options.members ?? replicas.map((m) => m.peerId)
  // every replica is (re)assigned at once, at the same step: they start the group at the same round,
  // past the rounds of an earlier assignment of the job (a re-plan), whose messages are then late; a
  // regroup's members differ from the last group's, so the last group's messages are refused by
  // their fingerprint
  const round = options.round ?? roundAtStep(spec, assignment.step) ?? 0
  const group = new SyncGroup({
    mesh,
    group: syncGroupName(assignment.job, stage.index),
    members,
    links: sync.links,
    round,
  })
  // on the CPU an averaging's bytes cost compute time: DreamDDP adds none beyond its schedule
  const synchronizer = createSynchronizer(spec, group, {
    mesh,
    links: sync.links,
    fillIn: compute !== 'cpu',
    ...(options.joining ? { joining: true } : {}),
  })
  if (options.state !== undefined) synchronizer.importState({ ...options.state, round })
  const periods: PeriodEvent[] = []
  const rounds: GradientRound[] = []
  const where = { job: assignment.job, stage: stage.index, replica: replica.index }
  synchronizer.onEvent((event) => {
    if (event.kind === 'period') periods.push(event)
    if (event.kind === 'round' && event.what === 'gradients')
      rounds.push({ round: event.round, contributors: [...event.contributors] })
    logEvent(log, { ...where, ...event })
  })
  return {
    gradients: (step, params) => synchronizer.gradients(step, params),
    parameters: (step, params) => synchronizer.parameters(step, params),
    settle: () => synchronizer.settle(),
    bytesSent: () => group.bytesSent,
    takePeriods: () => periods.splice(0),
    takeGradientRounds: () => rounds.splice(0),
    get round() {
      return synchronizer.round
    },
    get members() {
      return synchronizer.members
    },
    exportState: () => synchronizer.exportState(),
    admit: (peer, replica, nextStep, links) => synchronizer.admit(peer, { ...replica, nextStep }, links),
    receiveState: (replica) => synchronizer.receiveState(replica),
    close: () => {
      synchronizer.close()
      group.close()
    },
  }
}

/** A sync group reaches its members by peer id: their addresses go where libp2p looks. */
export async function learnAddresses(mesh: AtollMesh, members: Assignment['members']): Promise<void> {
  for (const m of members)
    if (m.peerId !== mesh.peerId)
      await mesh.node.peerStore.merge(peerIdFromString(m.peerId), {
        multiaddrs: m.addresses.map((a) => multiaddr(a)),
      })
}

/** Problems as warnings, schedules, periods and membership as information, every round for debugging. */
function logEvent(log: SyncLog, event: SyncEvent & { job: string }): void {
  if (event.kind === 'rejected' || event.kind === 'diverged' || event.kind === 'send-failed')
    log.warn(event, `sync: ${event.kind}`)
  else if (event.kind === 'round') log.debug(event, 'sync: round')
  else log.info(event, `sync: ${event.kind}`)
}
