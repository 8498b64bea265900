/**
 * The sync suite end to end, small: four `atoll peer` processes on loopback with emulated 100 Mbit/s
 * links, a two-layer GPT trained a few steps data-parallel on four replicas with each algorithm and
 * without synchronisation, and the figures computed from them. No timing is asserted: only that
 * every figure comes from its runs, says what it was measured on, and that the runs had replicas.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runSyncBench, suites } from '../src/index.ts'

test('the sync suite runs in quick mode: six runs of four replicas, every figure from them', {
  timeout: 300_000,
}, async () => {
  assert.ok(
    suites.some((s) => s.name === 'sync'),
    'sync is registered',
  )
  const report = await runSyncBench({ quick: true, log: () => {}, links: 'emulated' })
  assert.equal(report.suite, 'sync')
  const details = report.details as {
    links: { kind: string; mbit: number }
    figures: Record<string, { runs: string[]; links: string; target: string }>
    runs: { label: string; stages: string[]; steps: number; sync_seconds: number[]; periods: unknown[] }[]
  }
  assert.equal(details.links.kind, 'emulated')
  assert.equal(details.links.mbit, 100)
  assert.deepEqual(
    details.runs.map((r) => r.label),
    ['ssgd', 'localsgd', 'dreamddp-short', 'compute', 'dreamddp', 'diloco'],
  )
  for (const run of details.runs) {
    // one stage, replicated on the one cluster's four peers
    assert.equal(run.stages.length, 1, run.label)
    assert.equal(run.sync_seconds.length, run.steps, run.label)
  }
  for (const label of ['dreamddp', 'dreamddp-short']) {
    const dreamddp = details.runs.find((r) => r.label === label)
    assert.ok(dreamddp !== undefined && dreamddp.periods.length > 0, `${label} reported its periods`)
  }
  // the bytes the replicas' collectives sent: every algorithm averaged something in its run
  for (const run of ['ssgd', 'localsgd', 'dreamddp', 'diloco'])
    assert.ok(report.results[`mb_sent_per_step_${run}`] > 0, `${run} sent bytes`)
  for (const [name, value] of Object.entries(report.results)) {
    assert.ok(Number.isFinite(value), `${name} = ${value}`)
    assert.equal(details.figures[name].links, 'emulated')
  }
})
