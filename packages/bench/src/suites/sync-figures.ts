/**
 * The `sync` suite's figures from its runs, each with its target, the runs it came from and the link
 * kind. A run's step time is the mean after its first steps (sessions made, caches filled, the first
 * DreamDDP schedule solved): a median would leave out the one step in H where Local SGD and DiLoCo
 * average, and DreamDDP's period starts, where its replicas agree on the schedule.
 */
import { median } from '../measure.ts'
import { figureTable } from '../report.ts'
import type { BenchReport } from '../suite.ts'
import type { RunnerOutput } from './pipeline-spec.ts'
import { SYNC_RUNS, type SyncRun, type SyncSize } from './sync-jobs.ts'

/** Steps left out of a run's step time. */
export const WARMUP_STEPS = 2

const TARGETS: Record<string, string> = {
  dreamddp_vs_compute_only: '<= 1.2',
  ssgd_vs_dreamddp: '>= 3.0',
  dreamddp_wait_prediction_error: '<= 0.25',
  dreamddp_loss_vs_localsgd_equal_time: '<= 1.0',
}

const FROM: Record<string, SyncRun[]> = {
  dreamddp_vs_compute_only: ['dreamddp', 'compute'],
  ssgd_vs_dreamddp: ['ssgd', 'dreamddp'],
  dreamddp_wait_prediction_error: ['dreamddp-short'],
  dreamddp_loss_vs_localsgd_equal_time: ['dreamddp', 'localsgd'],
  diloco_vs_compute_only: ['diloco', 'compute'],
  diloco_loss_vs_localsgd_equal_time: ['diloco', 'localsgd'],
  mb_sent_per_step_ssgd: ['ssgd'],
  mb_sent_per_step_localsgd: ['localsgd'],
  mb_sent_per_step_dreamddp: ['dreamddp'],
  mb_sent_per_step_diloco: ['diloco'],
}

export interface SyncLinks {
  kind: 'netns' | 'emulated'
  why: string
  mbit: number
  /** replicas of the one stage: the peers */
  replicas: number
  size: SyncSize
}

/** MB a replica's collectives sent per step, on average over the run's steps (all replicas' bytes / replicas). */
function megabytesPerStep(run: RunnerOutput, replicas: number): number {
  const bytes = run.sync.reduce((sum, s) => sum + s.bytes, 0)
  return bytes / replicas / Math.max(1, run.sync.length) / 1e6
}

/** A run's step times after its first WARMUP_STEPS (all of them in a run that short). */
function measuredSteps(run: RunnerOutput): number[] {
  const s = run.summary.step_seconds
  return s.length > WARMUP_STEPS ? s.slice(WARMUP_STEPS) : s
}

function stepSeconds(run: RunnerOutput): number {
  const measured = measuredSteps(run)
  return measured.reduce((a, b) => a + b, 0) / measured.length
}

/**
 * The training loss at `seconds` of a run's wall time: step k's loss is that of the weights after k
 * updates, there from the time the steps before it took; the mean of the last three there by then,
 * which smooths one batch's luck (step 0's, the first weights', is there from the start).
 */
export function lossAt(run: RunnerOutput, seconds: number): number {
  let started = 0
  const there: number[] = []
  run.summary.step_seconds.forEach((s, k) => {
    if (started <= seconds + 1e-9) there.push(run.summary.losses[k])
    started += s
  })
  const last = there.slice(-3)
  return last.reduce((a, b) => a + b, 0) / last.length
}

/** Of two runs, the loss of `a` over that of `b` at the wall time the shorter of them took. */
function lossRatioAtEqualTime(a: RunnerOutput, b: RunnerOutput): number {
  const total = (r: RunnerOutput) => r.summary.step_seconds.reduce((x, y) => x + y, 0)
  const at = Math.min(total(a), total(b))
  return lossAt(a, at) / lossAt(b, at)
}

/**
 * |measured − predicted| / measured of DreamDDP's wait in its iterations, over the periods after the
 * first (summed); the agreement at each period's start, which the solver does not model, beside it.
 */
function waitPredictionError(run: RunnerOutput): {
  value: number
  measured: number
  predicted: number
  agreement: number
  periods: number
} {
  const periods = run.sync.flatMap((s) => s.periods).filter((p) => p.period > 0)
  const measured = periods.reduce((a, p) => a + p.measuredWaitSeconds, 0)
  const predicted = periods.reduce((a, p) => a + p.predictedWaitSeconds, 0)
  const agreement = periods.reduce((a, p) => a + p.agreementSeconds, 0)
  // nothing waited and nothing predicted: exact (a model this small hides every averaging)
  const value = measured === 0 && predicted === 0 ? 0 : Math.abs(measured - predicted) / measured
  return { value, measured, predicted, agreement, periods: periods.length }
}

export function syncFigures(runs: readonly RunnerOutput[], links: SyncLinks): BenchReport {
  const by = Object.fromEntries(
    SYNC_RUNS.map((label) => {
      const run = runs.find((r) => r.label === label)
      if (run === undefined)
        throw new RangeError(`no run '${label}' among ${runs.map((r) => r.label).join(', ')}`)
      return [label, run]
    }),
  ) as Record<SyncRun, RunnerOutput>
  // DreamDDP at its period hides its averaging: a wait of ~0 against a prediction of ~0 is no test
  // of the prediction (its relative error is noise over noise); at the short period it waits
  const wait = waitPredictionError(by['dreamddp-short'])
  const results: Record<string, number> = {
    dreamddp_vs_compute_only: stepSeconds(by.dreamddp) / stepSeconds(by.compute),
    ssgd_vs_dreamddp: stepSeconds(by.ssgd) / stepSeconds(by.dreamddp),
    dreamddp_wait_prediction_error: wait.value,
    dreamddp_loss_vs_localsgd_equal_time: lossRatioAtEqualTime(by.dreamddp, by.localsgd),
    diloco_vs_compute_only: stepSeconds(by.diloco) / stepSeconds(by.compute),
    diloco_loss_vs_localsgd_equal_time: lossRatioAtEqualTime(by.diloco, by.localsgd),
  }
  for (const run of ['ssgd', 'localsgd', 'dreamddp', 'diloco'] as const)
    results[`mb_sent_per_step_${run}`] = megabytesPerStep(by[run], links.replicas)
  const figures = figureTable(results, TARGETS, FROM, links.kind)
  return {
    suite: 'sync',
    results,
    targets: TARGETS,
    details: {
      links: { kind: links.kind, why: links.why, mbit: links.mbit, replicas: links.replicas },
      model: links.size,
      warmup_steps_left_out: WARMUP_STEPS,
      figures,
      dreamddp_wait: wait,
      dreamddp_wait_at_period: waitPredictionError(by.dreamddp),
      runs: runs.map(runDetails),
    },
  }
}

/** What a run did: its plan's stages (each replicated on the cluster), step and sync times, losses, DreamDDP's periods. */
function runDetails(run: RunnerOutput) {
  return {
    label: run.label,
    stages: run.summary.plan.stages.map((s) => s.name),
    steps: run.summary.steps,
    step_seconds: run.summary.step_seconds,
    measured_step_seconds: stepSeconds(run),
    median_step_seconds: median(measuredSteps(run)),
    sync_seconds: run.sync.map((s) => s.seconds),
    losses: run.summary.losses,
    held_out_loss: run.summary.eval.at(-1)?.loss ?? null,
    periods: run.sync.flatMap((s) => s.periods),
    wall_seconds: run.wallSeconds,
  }
}
