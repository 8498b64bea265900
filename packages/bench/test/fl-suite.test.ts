/**
 * The fl suite's report from runs of known numbers (the federations and browser steps themselves
 * are what `atoll bench fl` runs; too long for a test): time to target is the sum of the rounds'
 * seconds up to the first round at the target, each figure is the ratio or difference of the runs
 * it names, with its target, its measurement and its baseline; a strategy that never reaches the
 * target gives no speedup rather than a number.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type FlRoundMetrics, parseFlSpec } from '@atoll/peer'
import type { FlStrategyName } from '@atoll/sync'
import { suites } from '../src/index.ts'
import { clientMbit, type FederationRun, flFileText } from '../src/suites/fl-federation.ts'
import { flFigures, timeToTarget } from '../src/suites/fl-figures.ts'
import { FL_SETTING, STEP_SETTING } from '../src/suites/fl-setting.ts'

/** A federation whose rounds took `seconds` and ended at `accuracy`, two clients at 1 and 50 Mbit/s. */
function federation(strategy: FlStrategyName, accuracy: number[], seconds: number[]): FederationRun {
  const rounds: FlRoundMetrics[] = accuracy.map((a, round) => ({
    round,
    selected: 2,
    accepted: 2,
    rejected: 0,
    dropped: 0,
    uploadBytes: 1000,
    seconds: seconds[round],
    keepRatios: { p0: 0.1, p1: 0.1 },
    loss: 1 - a,
    accuracy: a,
  }))
  const client = (index: number, mbit: number) => ({
    index,
    mbit,
    measuredMbit: mbit,
    samples: 64,
    uploads: rounds.map((r) => ({ round: r.round, bytes: 500, seconds: 0.1 })),
    downloads: rounds.map((r) => ({ round: r.round, seconds: 0.01 })),
  })
  return {
    strategy,
    startAccuracy: 0.1,
    rounds,
    clients: [client(0, 1), client(1, 50)],
    keepRatios: rounds.map(() => [0.1, 0.1]),
    refused: 0,
    wallSeconds: 10,
  }
}

const setting = {
  fl: { ...FL_SETTING, targetAccuracy: 0.78 },
  step: { ...STEP_SETTING, warmup: 1 },
  mbit: [1, 50],
  links: { kind: 'emulated' as const, why: 'test' },
  cores: 2,
}

const steps = {
  // the first step of each run is warm-up: left out
  browser: { runs: [[9, 3, 3, 5]], threads: 2, backend: 'wasm', crossOriginIsolated: true },
  node: { runs: [[7, 2, 2, 1]], threads: 2, backend: 'cpu' },
}

test('time to target sums the rounds up to the first at the target, and is null where none reached it', () => {
  const run = federation('fedavg', [0.5, 0.79, 0.77, 0.8], [1, 2, 4, 8])
  assert.deepEqual(timeToTarget(run, 0.78), { rounds: 2, seconds: 3 })
  assert.deepEqual(timeToTarget(run, 0.8), { rounds: 4, seconds: 15 })
  assert.deepEqual(timeToTarget(run, 0.9), { rounds: null, seconds: null })
})

test('each figure is the ratio or difference of the runs it names, with its target, measurement and baseline', () => {
  const federations = [
    federation('fedavg', [0.6, 0.78, 0.82], [4, 4, 4]),
    federation('fedavg-topk', [0.5, 0.7, 0.79], [1, 1, 1]),
    federation('bcrs-opwa', [0.5, 0.8, 0.81], [0.5, 0.5, 0.5]),
  ]
  const report = flFigures({ federations, steps }, setting)
  assert.equal(report.suite, 'fl')
  // fedavg-topk reached 0.78 after 3 s, bcrs-opwa after 1 s, fedavg after 8 s
  assert.equal(report.results.bcrs_opwa_speedup_vs_fedavg_topk, 3)
  assert.equal(report.results.bcrs_opwa_speedup_vs_fedavg, 8)
  assert.ok(Math.abs(report.results.bcrs_opwa_final_acc_minus_fedavg - -0.01) < 1e-12)
  assert.ok(Math.abs(report.results.fedavg_topk_final_acc_minus_fedavg - -0.03) < 1e-12)
  // medians after the warm-up step: 3 ms against 2 ms
  assert.equal(report.results.browser_step_vs_node_step, 1.5)
  const figures = (report.details as { figures: Record<string, Record<string, unknown>> }).figures
  assert.deepEqual(figures.bcrs_opwa_speedup_vs_fedavg_topk, {
    value: 3,
    target: '>= 2.0',
    met: true,
    runs: ['fedavg-topk', 'bcrs-opwa'],
    links: 'emulated',
    measured: { strategy: 'bcrs-opwa', seconds_to_target: 1 },
    baseline: { strategy: 'fedavg-topk', seconds_to_target: 3 },
  })
  assert.equal(figures.bcrs_opwa_final_acc_minus_fedavg.met, true)
  assert.deepEqual(figures.bcrs_opwa_final_acc_minus_fedavg.baseline, {
    strategy: 'fedavg',
    final_accuracy: 0.82,
  })
  assert.equal(figures.browser_step_vs_node_step.links, 'none')
  assert.deepEqual(figures.browser_step_vs_node_step.baseline, { side: 'node', median_step_seconds: 2 })
  assert.equal(figures.bcrs_opwa_speedup_vs_fedavg.target, 'report')
  const strategies = (report.details as { strategies: Record<string, Record<string, unknown>> }).strategies
  assert.deepEqual(Object.keys(strategies), ['fedavg', 'fedavg-topk', 'bcrs-opwa'])
  assert.equal(strategies['fedavg-topk'].rounds_to_target, 3)
  assert.equal(strategies['fedavg-topk'].seconds_to_target, 3)
})

test('a strategy that never reaches the target gives no speedup, and the figure is missed', () => {
  const federations = [
    federation('fedavg', [0.6, 0.78], [4, 4]),
    federation('fedavg-topk', [0.5, 0.7], [1, 1]),
    federation('bcrs-opwa', [0.5, 0.8], [0.5, 0.5]),
  ]
  const report = flFigures({ federations, steps }, setting)
  assert.ok(Number.isNaN(report.results.bcrs_opwa_speedup_vs_fedavg_topk))
  const figures = (report.details as { figures: Record<string, { met: boolean | null }> }).figures
  assert.equal(figures.bcrs_opwa_speedup_vs_fedavg_topk.met, false)
  assert.equal(JSON.parse(JSON.stringify(report.results)).bcrs_opwa_speedup_vs_fedavg_topk, null)
})

test("the suite is registered, its FL.yaml passes the server's parser, and the uploads spread from 1 to 50 Mbit/s", () => {
  assert.ok(suites.some((s) => s.name === 'fl'))
  const spec = parseFlSpec(flFileText(FL_SETTING, 'bcrs-opwa', '/tmp/x'), '/tmp/bench.yaml')
  assert.deepEqual(spec.strategy, { name: 'bcrs-opwa', keepRatio: FL_SETTING.keepRatio })
  assert.equal(spec.clients.min, FL_SETTING.clients)
  assert.equal(spec.rounds, FL_SETTING.rounds)
  const mbit = clientMbit(FL_SETTING)
  assert.equal(mbit.length, 10)
  assert.equal(mbit[0], 1)
  assert.ok(Math.abs(mbit[9] - 50) < 1e-9)
  for (let k = 1; k < mbit.length; k++) assert.ok(mbit[k] > mbit[k - 1])
})
