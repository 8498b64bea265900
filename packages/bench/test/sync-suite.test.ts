/**
 * The sync suite end to end, small: four `atoll peer` processes on loopback with emulated 100 Mbit/s
 * links, a two-layer GPT trained a few steps data-parallel on four replicas with each algorithm and
 * without synchronisation, and the figures computed from them. No timing is asserted: only that
 * every figure comes from its runs, says what it was measured on, and that the runs had replicas.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runSyncBench, suites } from '../src/index.ts'

test('the sync suite runs in quick mode: five runs of four replicas, every figure from them', {
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
    ['compute', 'ssgd', 'localsgd', 'dreamddp', 'diloco'],
  )
  for (const run of details.runs) {
    // one stage, replicated on the one cluster's four peers
    assert.equal(run.stages.length, 1, run.label)
    assert.equal(run.sync_seconds.length, run.steps, run.label)
  }
  const dreamddp = details.runs.find((r) => r.label === 'dreamddp')
  assert.ok(dreamddp !== undefined && dreamddp.periods.length > 0, 'DreamDDP reported its periods')
  for (const [name, value] of Object.entries(report.results)) {
    assert.ok(Number.isFinite(value), `${name} = ${value}`)
    assert.equal(details.figures[name].links, 'emulated')
  }
})
