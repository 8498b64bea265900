/**
 * The `pipeline` suite's figures from its runs: each with its target, the runs it came from, and the
 * link kind they ran over. A step's time is the median of the steps after the first few (the first
 * steps pay for sessions being created and caches filled on every stage).
 */
import { median } from '../measure.ts'
import { figureTable } from '../report.ts'
import type { BenchReport } from '../suite.ts'
import type { PipelineSize } from './pipeline-jobs.ts'
import type { RunnerOutput } from './pipeline-spec.ts'

/** Steps left out of a run's step time: sessions are made and caches warmed in the first ones. */
export const WARMUP_STEPS = 3

export interface LinkKind {
  kind: 'emulated' | 'netns'
  why: string
  inside: { mbit: number; delayMs: number }
  between: { mbit: number; delayMs: number }
  /** the order the daemons started and joined in (each once the one before was up) */
  joinOrder: readonly string[]
  size: PipelineSize
}

const TARGETS: Record<string, string> = {
  fence_vs_even_split_measured: '>= 2.0',
  adatopk_vs_dense_speedup: '>= 2.0',
  adatopk_loss_gap: '<= 0.05',
  estimator_error: '<= 0.20',
}

/** The median step time of a run, its first steps left out (all of them when it has no more). */
export function stepSeconds(run: RunnerOutput): number {
  const s = run.summary.step_seconds
  return median(s.length > WARMUP_STEPS ? s.slice(WARMUP_STEPS) : s)
}

/** Σ stage busy / (stages × step time), per step after the warm-up, its median. */
export function overlap(run: RunnerOutput): number {
  const per = run.stages
    .map((stages, k) => ({ stages, seconds: run.summary.step_seconds[k] }))
    .slice(run.stages.length > WARMUP_STEPS ? WARMUP_STEPS : 0)
    .map(({ stages, seconds }) => stages.reduce((a, s) => a + s.busySeconds, 0) / (stages.length * seconds))
  return median(per)
}

/** The held-out loss at a run's end. */
function finalLoss(run: RunnerOutput): number {
  return run.summary.eval.at(-1)?.loss ?? Number.NaN
}

export function pipelineFigures(runs: readonly RunnerOutput[], link: LinkKind): BenchReport {
  const by = (label: string) => {
    const run = runs.find((r) => r.label === label)
    if (run === undefined)
      throw new RangeError(`no run '${label}' among ${runs.map((r) => r.label).join(', ')}`)
    return run
  }
  const [fence, dense] = [by('fence-adatopk'), by('fence-dense')]
  const [even, evenTopk] = [by('even-dense'), by('even-adatopk')]
  const predicted = fence.summary.plan.predicted_step_seconds
  const results: Record<string, number> = {
    // placement alone: both plans with every edge dense (compression is the next figure's)
    fence_vs_even_split_measured: stepSeconds(even) / stepSeconds(dense),
    fence_vs_even_adatopk: stepSeconds(evenTopk) / stepSeconds(fence),
    adatopk_vs_dense_speedup: stepSeconds(dense) / stepSeconds(fence),
    adatopk_loss_gap: (finalLoss(fence) - finalLoss(dense)) / finalLoss(dense),
    estimator_error: Math.abs(predicted - stepSeconds(fence)) / stepSeconds(fence),
    pipeline_overlap: overlap(fence),
  }
  const from: Record<string, string[]> = {
    fence_vs_even_split_measured: ['even-dense', 'fence-dense'],
    fence_vs_even_adatopk: ['even-adatopk', 'fence-adatopk'],
    adatopk_vs_dense_speedup: ['fence-dense', 'fence-adatopk'],
    adatopk_loss_gap: ['fence-adatopk', 'fence-dense'],
    estimator_error: ['fence-adatopk'],
    pipeline_overlap: ['fence-adatopk'],
  }
  const figures = figureTable(results, TARGETS, from, link.kind)
  return {
    suite: 'pipeline',
    results,
    targets: TARGETS,
    details: {
      links: {
        kind: link.kind,
        why: link.why,
        inside: link.inside,
        between: link.between,
        join_order: link.joinOrder,
      },
      model: link.size,
      warmup_steps_left_out: WARMUP_STEPS,
      figures,
      runs: runs.map(runDetails),
    },
  }
}

/** What a run did, for the record: placement, boundaries, predicted against measured, losses, bytes. */
function runDetails(run: RunnerOutput) {
  const measured = stepSeconds(run)
  const predicted = run.summary.plan.predicted_step_seconds
  const name = (id: string) => run.summary.peers.find((p) => p.id === id)?.name ?? id
  return {
    label: run.label,
    peers: run.summary.peers.map((p) => ({ name: p.name, flops: p.flops })),
    links: run.summary.links.map((l) => ({
      a: name(l.a),
      b: name(l.b),
      bandwidth_bps: l.bandwidth_bps,
      rtt_seconds: l.rtt_seconds,
    })),
    steps: run.summary.steps,
    stages: run.summary.plan.stages.map((s) => ({ peer: s.name, layers: s.layers })),
    boundaries: run.plan.edges.map((e) => ({
      from: run.summary.plan.stages[e.from]?.name,
      to: run.summary.plan.stages[e.to]?.name,
      crosses_fence: e.crossesFence,
      codec: e.codec,
      keep_ratio: e.keepRatio,
      dense_bytes: e.bytes,
      predicted_seconds: e.seconds,
    })),
    predicted_step_seconds: predicted,
    predicted: run.plan.predicted,
    stage_compute_seconds: run.plan.stages.map((s) => s.computeSeconds),
    stage_ops: run.plan.stages.map((s) => s.ops),
    measured_step_seconds: measured,
    estimator_error: (predicted - measured) / measured,
    overlap: overlap(run),
    stage_busy_seconds: medianPerStage(run, 'busySeconds'),
    stage_wait_seconds: medianPerStage(run, 'waitSeconds'),
    step_seconds: run.summary.step_seconds,
    loss_first: run.summary.losses[0],
    loss_last: run.summary.losses.at(-1),
    held_out_loss: finalLoss(run),
    link_bytes_per_step: Object.fromEntries(
      Object.entries(run.summary.link_bytes).map(([k, v]) => [k, v / run.summary.steps]),
    ),
    wall_seconds: run.wallSeconds,
  }
}

function medianPerStage(run: RunnerOutput, key: 'busySeconds' | 'waitSeconds'): number[] {
  const steps = run.stages.slice(run.stages.length > WARMUP_STEPS ? WARMUP_STEPS : 0)
  return (steps[0] ?? []).map((_, s) => median(steps.map((st) => st[s][key])))
}
