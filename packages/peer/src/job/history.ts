/**
 * What a job did, step by step, for its summary: losses and step times by step (a step redone after
 * a re-plan replaces the first try), held-out losses, the bytes each link carried, the re-plans and
 * live membership changes, and the plan and membership it ended with.
 */
import type { JobPlacement } from '@atoll/sched'
import type { StepResult } from './coordinator.ts'
import type { ModelCheckpoint } from './job-checkpoint.ts'
import type { MeshProfile } from './profiles.ts'
import type { JobSpec } from './spec.ts'

export interface TrainSummary {
  job: string
  /** the step training started at (0, or the checkpoint resumed from) and the steps taken since */
  start: number
  steps: number
  loss_first: number
  loss_last: number
  losses: number[]
  eval: { step: number; loss: number }[]
  /** the membership planned over, and its links as measured (peer ids) */
  peers: { id: string; name: string; device: string; flops: number }[]
  links: { a: string; b: string; bandwidth_bps: number; rtt_seconds: number }[]
  plan: {
    algorithm: string
    /** the planner's clusters, by peer id: a stage's `cluster` indexes this */
    clusters: { peers: string[]; inner_bandwidth_bps: number }[]
    stages: { peer: string; name: string; layers: string[]; cluster: number }[]
    boundaries: JobPlacement['boundaries']
    /** every boundary as planned: bytes per micro-batch, whether it crosses a fence, its link */
    edges: JobPlacement['plan']['edges']
    predicted_step_seconds: number
  }
  measured_step_seconds: number
  /** each step's wall time, seconds */
  step_seconds: number[]
  /** payload bytes per link (`from→to` by peer name), all steps, redone ones too */
  link_bytes: Record<string, number>
  /** peers lost mid-run: at which step, and the checkpoint step the job went on from */
  replans: { step: number; lost: string[]; resumed_at: number }[]
  /**
   * with replicas, pipelines changed without a re-plan: one that lost a peer `left` (the job went on
   * at that step without it), fresh peers were `admitted` into an empty one (names of those peers)
   */
  membership: { step: number; change: 'left' | 'admitted'; peers: string[] }[]
  checkpoint?: string
}

export class JobHistory {
  readonly tokens: number
  lastCheckpoint: ModelCheckpoint | undefined
  #first: number | undefined
  readonly #losses: number[] = []
  readonly #seconds: number[] = []
  readonly #evals: TrainSummary['eval'] = []
  readonly #bytes = new Map<string, number>()
  readonly #replans: TrainSummary['replans'] = []
  readonly #membership: TrainSummary['membership'] = []
  readonly #names = new Map<string, string>()
  #profile: MeshProfile | undefined
  #placement: JobPlacement | undefined
  #checkpointDir: string | undefined

  /** `tokens`: what one step consumes (tokens of text, or samples), for throughput */
  constructor(tokens: number) {
    this.tokens = tokens
  }

  /** Steps from `step` on are (re)done next. */
  rewind(step: number): void {
    this.#first ??= step
    const keep = step - (this.#first ?? 0)
    this.#losses.length = Math.max(0, Math.min(this.#losses.length, keep))
    this.#seconds.length = this.#losses.length
    for (let k = this.#evals.length - 1; k >= 0; k--) if (this.#evals[k].step > step) this.#evals.splice(k, 1)
  }

  planned(profile: MeshProfile, placement: JobPlacement): void {
    this.#profile = profile
    this.#placement = placement
    for (const p of profile.peers) this.#names.set(p.id, p.name)
  }

  stepped(result: StepResult): void {
    this.#losses.push(result.loss)
    this.#seconds.push(result.seconds)
    for (const l of result.links) {
      const key = `${this.#name(l.from)}→${this.#name(l.to)}`
      this.#bytes.set(key, (this.#bytes.get(key) ?? 0) + l.bytes)
    }
  }

  checkpointed(checkpoint: ModelCheckpoint, dir: string): void {
    this.lastCheckpoint = checkpoint
    this.#checkpointDir = dir
  }

  evaluated(step: number, loss: number): void {
    this.#evals.push({ step, loss })
  }

  replanned(step: number, lost: readonly string[], resumedAt: number): void {
    this.#replans.push({ step, lost: lost.map((p) => this.#name(p)), resumed_at: resumedAt })
  }

  /** Pipelines left (`peers` lost) or were filled (`peers` admitted) at `step`, with no re-plan. */
  membershipChanged(
    step: number,
    change: 'left' | 'admitted',
    peers: readonly { id: string; name?: string }[],
  ) {
    for (const p of peers) if (p.name !== undefined) this.#names.set(p.id, p.name)
    this.#membership.push({ step, change, peers: peers.map((p) => this.#name(p.id)) })
  }

  summary(job: JobSpec): TrainSummary {
    const profile = this.#profile as MeshProfile
    const placement = this.#placement as JobPlacement
    const losses = [...this.#losses]
    const total = this.#seconds.reduce((a, b) => a + b, 0)
    return {
      job: job.name,
      start: this.#first ?? 0,
      steps: losses.length,
      loss_first: losses[0] ?? Number.NaN,
      loss_last: losses.at(-1) ?? Number.NaN,
      losses,
      eval: [...this.#evals],
      peers: profile.peers.map((p) => ({ id: p.id, name: p.name, device: p.device, flops: p.flops })),
      links: profile.links.map((l) => ({
        a: l.a,
        b: l.b,
        bandwidth_bps: l.bandwidthBps,
        rtt_seconds: l.rttSeconds,
      })),
      plan: {
        algorithm: placement.plan.algorithm,
        clusters: placement.plan.clusters.map((c) => ({
          peers: c.peers,
          inner_bandwidth_bps: c.innerBandwidthBps,
        })),
        stages: placement.stages.map((s, k) => ({
          peer: s.peer,
          name: this.#name(s.peer),
          layers: placement.plan.stages[k]?.layers ?? [],
          cluster: placement.plan.stages[k]?.cluster ?? -1,
        })),
        boundaries: placement.boundaries,
        edges: placement.plan.edges,
        predicted_step_seconds: placement.plan.predicted.stepSeconds,
      },
      measured_step_seconds: losses.length > 0 ? total / losses.length : Number.NaN,
      step_seconds: [...this.#seconds],
      link_bytes: Object.fromEntries(this.#bytes),
      replans: [...this.#replans],
      membership: [...this.#membership],
      ...(this.#checkpointDir ? { checkpoint: this.#checkpointDir } : {}),
    }
  }

  #name(peer: string): string {
    return this.#names.get(peer) ?? peer
  }
}
