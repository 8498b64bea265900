/**
 * What the conformance suite shares: the four algorithms as the suite runs them, replicas (a real
 * mesh, a SyncGroup and a Synchronizer each, with runtime Parameters and optimizer), the training
 * loop every algorithm uses, a quadratic objective whose optimum is known, and checks on the
 * synchronizers' round records.
 */
import assert from 'node:assert/strict'
import type { AtollMesh } from '@atoll/net'
import { createParameter, type Optimizer, type Parameter, sgd, zeroGrads } from '@atoll/runtime'
import type { LinkProfile } from '@atoll/sched'
import { seededRandom, tensor } from '@atoll/core'
import {
  createSynchronizer,
  type DeadlineOptions,
  type RoundEvent,
  SyncGroup,
  type SyncEvent,
  type Synchronizer,
  type SynchronizerSpecInput,
} from '../src/index.ts'

/** The same tests run over each of these. Periods are short so that a few dozen steps hold many rounds. */
export const ALGORITHMS = [
  { algorithm: 'ssgd' },
  { algorithm: 'local-sgd', period: 4 },
  { algorithm: 'dreamddp', period: 4 },
  { algorithm: 'diloco', period: 4, outer: { lr: 0.7, momentum: 0.5 } },
] as const

export type AlgorithmInput = SynchronizerSpecInput

export interface Replica {
  id: string
  mesh: AtollMesh
  group: SyncGroup
  sync: Synchronizer
  params: Parameter[]
  optimizer: Optimizer
  events: SyncEvent[]
}

export interface ReplicaInit {
  group: string
  members: readonly string[]
  links: readonly LinkProfile[]
  params: Parameter[]
  optimizer: Optimizer
  round?: number
  deadline?: DeadlineOptions
  joining?: boolean
  bucketBytes?: number
}

export function replicaOn(mesh: AtollMesh, spec: AlgorithmInput, init: ReplicaInit): Replica {
  const group = new SyncGroup({
    mesh,
    group: init.group,
    members: init.members,
    links: init.links,
    round: init.round,
    deadline: init.deadline,
  })
  const sync = createSynchronizer({ ...spec }, group, {
    mesh,
    links: init.links,
    deadline: init.deadline,
    joining: init.joining,
    bucketBytes: init.bucketBytes,
  })
  const events: SyncEvent[] = []
  sync.onEvent((e) => events.push(e))
  return { id: mesh.peerId, mesh, group, sync, params: init.params, optimizer: init.optimizer, events }
}

export function closeReplicas(replicas: readonly Replica[]): void {
  for (const r of replicas) {
    r.sync.close()
    r.group.close()
  }
}

export interface LoopHooks {
  lr: number
  /** fills the replica's gradients for `step` (zeroed before) */
  backward(replica: Replica, step: number): Promise<void> | void
  /** awaited at the start of a step (a test holds a replica back here) */
  beforeStep?(replica: Replica, step: number): Promise<void> | void
  /** awaited at the end of a step, after both hooks (a test changes membership here) */
  afterStep?(replica: Replica, step: number): Promise<void> | void
}

/** The loop every algorithm runs: backward, gradients hook, optimizer step, parameters hook. */
export async function train(replica: Replica, from: number, to: number, hooks: LoopHooks): Promise<void> {
  for (let step = from; step < to; step++) {
    await hooks.beforeStep?.(replica, step)
    zeroGrads(replica.params)
    await hooks.backward(replica, step)
    await replica.sync.gradients(step, replica.params)
    replica.optimizer.step(hooks.lr)
    await replica.sync.parameters(step, replica.params)
    await hooks.afterStep?.(replica, step)
  }
  await replica.sync.settle()
}

/**
 * A quadratic per replica, ½ Σ_k a_k (θ_k − c_k)², over four "layers" of parameters: the same
 * curvature a everywhere and a different centre c per replica, so that the replicas' mean objective
 * has its minimum at the mean of their centres.
 */
export const QUADRATIC_SHAPES: Record<string, number[]> = {
  'l0.weight': [6, 8],
  'l0.bias': [6],
  'l1.weight': [4, 6],
  'l2.weight': [3, 4],
}

export function quadraticParams(): Parameter[] {
  return Object.entries(QUADRATIC_SHAPES).map(([name, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1)
    return createParameter(name, tensor('float32', shape, new Float32Array(n)))
  })
}

/** Deterministic values in [−1, 1) (core's seeded generator). */
export function pseudoRandom(length: number, seed: number): Float32Array {
  const random = seededRandom(seed)
  return Float32Array.from({ length }, () => 2 * random() - 1)
}

export interface Quadratic {
  curvature: Float32Array[]
  centres: Float32Array[][]
  /** the minimum of the replicas' mean objective */
  optimum: Float32Array[]
  gradient(params: readonly Parameter[], centre: number): void
  /** (F(θ) − F*) / (F(0) − F*) of the mean objective F */
  suboptimality(params: readonly Parameter[]): number
}

export function quadratic(replicas: number): Quadratic {
  const sizes = Object.values(QUADRATIC_SHAPES).map((s) => s.reduce((a, b) => a * b, 1))
  const curvature = sizes.map((n, k) => pseudoRandom(n, 100 + k).map((v) => 1 + 0.5 * v))
  const centres = Array.from({ length: replicas }, (_, i) =>
    sizes.map((n, k) => pseudoRandom(n, 7 * i + k + 1).map((v) => 1 + 0.4 * v)),
  )
  const optimum = sizes.map((n, k) =>
    Float32Array.from({ length: n }, (_, j) => mean(centres.map((c) => c[k][j]))),
  )
  const value = (theta: (k: number, j: number) => number) => {
    let f = 0
    for (const centre of centres)
      sizes.forEach((n, k) => {
        for (let j = 0; j < n; j++) f += 0.5 * curvature[k][j] * (theta(k, j) - centre[k][j]) ** 2
      })
    return f / centres.length
  }
  const best = value((k, j) => optimum[k][j])
  const start = value(() => 0)
  return {
    curvature,
    centres,
    optimum,
    gradient(params, centre) {
      params.forEach((p, k) => {
        for (let j = 0; j < p.grad.length; j++)
          p.grad[j] = curvature[k][j] * (p.value[j] - centres[centre][k][j])
      })
    },
    suboptimality: (params) => (value((k, j) => params[k].value[j]) - best) / (start - best),
  }
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length
}

/** A replica training on the quadratic with SGD and momentum (so that a joiner has optimizer state to receive). */
export function quadraticReplica(
  mesh: AtollMesh,
  spec: AlgorithmInput,
  init: Omit<ReplicaInit, 'params' | 'optimizer'>,
): Replica {
  const params = quadraticParams()
  return replicaOn(mesh, spec, { ...init, params, optimizer: sgd(params, { momentum: 0.5 }) })
}

export function roundEvents(replica: Replica): RoundEvent[] {
  return replica.events.filter((e): e is RoundEvent => e.kind === 'round')
}

/**
 * Nothing lost, nothing applied twice: each replica records every round from its first to its last
 * exactly once, in order; in each round, the replicas that took part, and those left out that were
 * told the outcome, name the same contributors, which are exactly the replicas that took part.
 */
export function checkRounds(replicas: readonly Replica[]): Map<number, RoundEvent[]> {
  const byRound = new Map<number, RoundEvent[]>()
  for (const replica of replicas) {
    const rounds = roundEvents(replica).map((e) => e.round)
    const first = rounds[0]
    assert.deepEqual(
      rounds,
      rounds.map((_, i) => first + i),
      `${replica.id.slice(-6)}: rounds once each, in order`,
    )
    for (const e of roundEvents(replica)) byRound.set(e.round, [...(byRound.get(e.round) ?? []), e])
  }
  for (const [round, events] of byRound) {
    const taking = events.filter((e) => e.included)
    const told = events.filter((e) => e.included || e.caughtUp)
    for (const e of told)
      assert.deepEqual(e.contributors, told[0].contributors, `round ${round}: contributors`)
    if (taking.length > 0)
      assert.equal(
        taking[0].contributors.length,
        taking.length,
        `round ${round}: every contributor took part`,
      )
  }
  return byRound
}

/** Resolves once `check` holds, looking again whenever one of `replicas` records an event. */
export function until(replicas: readonly Replica[], check: () => boolean): Promise<void> {
  if (check()) return Promise.resolve()
  return new Promise((resolve) => {
    const offs = replicas.map((r) =>
      r.sync.onEvent(() => {
        if (!check()) return
        for (const off of offs) off()
        resolve()
      }),
    )
  })
}

/** Waits for `count` arrivals, then lets all of them go on. */
export class Barrier {
  #waiting: (() => void)[] = []
  #count: number
  readonly #onFull: () => Promise<void> | void

  constructor(count: number, onFull: () => Promise<void> | void = () => {}) {
    this.#count = count
    this.#onFull = onFull
  }

  async arrive(): Promise<void> {
    const released = new Promise<void>((resolve) => this.#waiting.push(resolve))
    if (this.#waiting.length === this.#count) {
      await this.#onFull()
      for (const release of this.#waiting.splice(0)) release()
    }
    await released
  }
}

/** One line per replica of what its synchronizer recorded, short enough for a failure message. */
export function eventSummary(replicas: readonly Replica[]): string {
  const short = (id: string) => id.slice(-4)
  return replicas
    .map((r) => {
      const events = r.events.flatMap((e) => {
        if (e.kind === 'round') {
          const who = e.included
            ? e.contributors.map(short).join('+')
            : `out${e.caughtUp ? '/caught-up' : ''}`
          return e.included && e.attempts === 1 && e.excluded.length === 0
            ? []
            : [`r${e.round}@${e.step} ${e.what} ${who} x${e.attempts}`]
        }
        if (e.kind === 'rejected') return [`rejected r${e.round} ${e.edge}: ${e.reason}`]
        if (e.kind === 'membership') return [`${e.change} ${short(e.peer)} from r${e.round}`]
        if (e.kind === 'diverged' || e.kind === 'send-failed') return [`${e.kind} r${e.round}: ${e.reason}`]
        return []
      })
      return `${short(r.id)}: ${events.join('; ')}`
    })
    .join('\n')
}

/** Runs `check`; a failure's message gets the replicas' event summary appended. */
export async function explained<T>(replicas: readonly Replica[], check: () => Promise<T> | T): Promise<T> {
  try {
    return await check()
  } catch (err) {
    if (err instanceof Error) {
      const summary = eventSummary(replicas)
      err.message += `\n${summary}`
      err.stack = `${err.stack}\n${summary}` // the runner prints the stack, made before the message grew
    }
    throw err
  }
}
