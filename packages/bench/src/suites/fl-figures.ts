/**
 * The `fl` suite's figures from its runs, each with its target, the runs it came from, and the
 * measurement and baseline it is the ratio (or difference) of. Time to target is the sum of the
 * rounds' own seconds (a round's start to its aggregation, as the server measures it) up to the
 * first round whose held-out accuracy reaches the target: the evaluation and checkpoint after each
 * round, the same for every strategy, are left out.
 */
import type { FlStrategyName } from '@atoll/sync'
import { median } from '../measure.ts'
import { figureTable } from '../report.ts'
import type { BenchReport } from '../suite.ts'
import type { StepTimes } from './fl-browser.ts'
import type { FederationRun } from './fl-federation.ts'
import type { FlSetting, StepSetting } from './fl-setting.ts'

const TARGETS: Record<string, string> = {
  bcrs_opwa_speedup_vs_fedavg_topk: '>= 2.0',
  bcrs_opwa_final_acc_minus_fedavg: '>= -0.01',
  browser_step_vs_node_step: '<= 2.0',
}

const FROM: Record<string, string[]> = {
  bcrs_opwa_speedup_vs_fedavg_topk: ['fedavg-topk', 'bcrs-opwa'],
  bcrs_opwa_final_acc_minus_fedavg: ['fedavg', 'bcrs-opwa'],
  browser_step_vs_node_step: ['browser-step', 'node-step'],
  bcrs_opwa_speedup_vs_fedavg: ['fedavg', 'bcrs-opwa'],
  fedavg_topk_final_acc_minus_fedavg: ['fedavg', 'fedavg-topk'],
}

export interface FlLinks {
  kind: 'emulated'
  why: string
}

/** Rounds and seconds to the first round at `target` accuracy; null where no round reached it. */
export function timeToTarget(
  run: Pick<FederationRun, 'rounds'>,
  target: number,
): { rounds: number | null; seconds: number | null } {
  let seconds = 0
  for (const [k, round] of run.rounds.entries()) {
    seconds += round.seconds
    if (round.accuracy >= target) return { rounds: k + 1, seconds }
  }
  return { rounds: null, seconds: null }
}

/** Held-out accuracy after the last round. */
function finalAccuracy(run: FederationRun): number {
  return run.rounds.at(-1)?.accuracy ?? Number.NaN
}

/** Median step seconds of a side, each run's warm-up left out. */
function stepSeconds(times: StepTimes, warmup: number): number {
  return median(times.runs.flatMap((run) => run.slice(warmup)))
}

export interface FlRuns {
  federations: readonly FederationRun[]
  steps: { browser: StepTimes; node: StepTimes }
}

export function flFigures(
  runs: FlRuns,
  setting: { fl: FlSetting; step: StepSetting; mbit: readonly number[]; links: FlLinks; cores: number },
): BenchReport {
  const by = (strategy: FlStrategyName) => {
    const run = runs.federations.find((r) => r.strategy === strategy)
    if (run === undefined)
      throw new RangeError(`no ${strategy} run among ${runs.federations.map((r) => r.strategy).join(', ')}`)
    return run
  }
  const [dense, topk, bcrs] = [by('fedavg'), by('fedavg-topk'), by('bcrs-opwa')]
  const target = setting.fl.targetAccuracy
  // NaN (null in the JSON) where a strategy never reached the target: details say which
  const toTarget = (run: FederationRun) => timeToTarget(run, target).seconds ?? Number.NaN
  const browserStep = stepSeconds(runs.steps.browser, setting.step.warmup)
  const nodeStep = stepSeconds(runs.steps.node, setting.step.warmup)
  const results: Record<string, number> = {
    bcrs_opwa_speedup_vs_fedavg_topk: toTarget(topk) / toTarget(bcrs),
    bcrs_opwa_final_acc_minus_fedavg: finalAccuracy(bcrs) - finalAccuracy(dense),
    browser_step_vs_node_step: browserStep / nodeStep,
    bcrs_opwa_speedup_vs_fedavg: toTarget(dense) / toTarget(bcrs),
    fedavg_topk_final_acc_minus_fedavg: finalAccuracy(topk) - finalAccuracy(dense),
  }
  const table = figureTable(results, TARGETS, FROM, setting.links.kind)
  const seconds = (run: FederationRun) => ({ strategy: run.strategy, seconds_to_target: toTarget(run) })
  const accuracy = (run: FederationRun) => ({ strategy: run.strategy, final_accuracy: finalAccuracy(run) })
  const pairs: Record<string, { measured: unknown; baseline: unknown }> = {
    bcrs_opwa_speedup_vs_fedavg_topk: { measured: seconds(bcrs), baseline: seconds(topk) },
    bcrs_opwa_final_acc_minus_fedavg: { measured: accuracy(bcrs), baseline: accuracy(dense) },
    browser_step_vs_node_step: {
      measured: { side: 'browser', median_step_seconds: browserStep },
      baseline: { side: 'node', median_step_seconds: nodeStep },
    },
    bcrs_opwa_speedup_vs_fedavg: { measured: seconds(bcrs), baseline: seconds(dense) },
    fedavg_topk_final_acc_minus_fedavg: { measured: accuracy(topk), baseline: accuracy(dense) },
  }
  const figures = Object.fromEntries(
    Object.entries(table).map(([name, figure]) => [
      name,
      {
        ...figure,
        ...pairs[name],
        // one process, no network between the two
        links: name === 'browser_step_vs_node_step' ? 'none' : figure.links,
      },
    ]),
  )
  return {
    suite: 'fl',
    results,
    targets: TARGETS,
    details: {
      links: { ...setting.links, client_upload_mbit: setting.mbit },
      setting: setting.fl,
      cores: setting.cores,
      figures,
      strategies: Object.fromEntries(runs.federations.map((run) => [run.strategy, runDetails(run, target)])),
      step: stepDetails(runs.steps, setting.step),
    },
  }
}

/** What a federation did: accuracy and seconds per round, to target, uploads and ratios per client. */
function runDetails(run: FederationRun, target: number) {
  const reached = timeToTarget(run, target)
  const roundSeconds = run.rounds.map((r) => r.seconds)
  return {
    target_accuracy: target,
    rounds_to_target: reached.rounds,
    seconds_to_target: reached.seconds,
    rounds: run.rounds.length,
    start_accuracy: run.startAccuracy,
    final_accuracy: finalAccuracy(run),
    median_round_seconds: median(roundSeconds),
    accuracy: run.rounds.map((r) => r.accuracy),
    loss: run.rounds.map((r) => r.loss),
    round_seconds: roundSeconds,
    upload_bytes: run.rounds.map((r) => r.uploadBytes),
    refused: run.refused,
    wall_seconds: run.wallSeconds,
    clients: run.clients.map((c) => ({
      index: c.index,
      mbit: c.mbit,
      measured_mbit: c.measuredMbit,
      samples: c.samples,
      keep_ratio: median(run.keepRatios.map((ratios) => ratios[c.index])),
      median_upload_bytes: median(c.uploads.map((u) => u.bytes)),
      median_upload_seconds: median(c.uploads.map((u) => u.seconds)),
      median_download_seconds: median(c.downloads.map((d) => d.seconds)),
    })),
  }
}

function stepDetails(steps: FlRuns['steps'], setting: StepSetting) {
  const side = (times: StepTimes) => ({
    median_step_seconds: stepSeconds(times, setting.warmup),
    backend: times.backend,
    threads: times.threads,
    ...(times.crossOriginIsolated === undefined ? {} : { cross_origin_isolated: times.crossOriginIsolated }),
    step_seconds: times.runs,
  })
  return {
    model: 'mlp',
    batch: setting.batch,
    steps_per_run: setting.steps,
    warmup_steps_left_out: setting.warmup,
    browser: side(steps.browser),
    node: side(steps.node),
  }
}
