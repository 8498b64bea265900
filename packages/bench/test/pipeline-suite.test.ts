/**
 * The pipeline suite end to end, small: four `atoll peer` processes on loopback in two sites with
 * emulated links, a two-layer GPT trained a few steps in each of the four runs (OP-Fence with
 * AdaTopK and dense, `even` in join order dense and with AdaTopK), and the figures computed from them. No timing is
 * asserted: only that every figure comes from its runs and says what it was measured on.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runPipelineBench, suites } from '../src/index.ts'

test('the pipeline suite runs in quick mode: every figure from runs of this invocation, with its target and links', {
  timeout: 180_000,
}, async () => {
  const suite = suites.find((s) => s.name === 'pipeline')
  assert.ok(suite, 'pipeline is registered')
  // emulated links even as root: the namespace variant needs the machine's one testnet, which the
  // testnet tests may hold at the same time (tests/testnet-netns runs the suite over it)
  const report = await runPipelineBench({ quick: true, log: () => {}, links: 'emulated' })
  assert.equal(report.suite, 'pipeline')
  const names = [
    'fence_vs_even_split_measured',
    'fence_vs_even_adatopk',
    'adatopk_vs_dense_speedup',
    'adatopk_loss_gap',
    'estimator_error',
    'pipeline_overlap',
  ]
  assert.deepEqual(Object.keys(report.results).sort(), [...names].sort())
  for (const name of names)
    assert.ok(Number.isFinite(report.results[name]), `${name} = ${report.results[name]}`)
  assert.ok(report.results.pipeline_overlap > 0 && report.results.pipeline_overlap <= 1)
  const details = report.details as {
    links: { kind: string; between: { mbit: number }; join_order: string[] }
    figures: Record<string, { target: string; runs: string[]; links: string }>
    runs: {
      label: string
      steps: number
      stages: { peer: string }[]
      boundaries: { crosses_fence: boolean }[]
    }[]
  }
  assert.equal(details.links.kind, 'emulated')
  assert.equal(details.links.between.mbit, 20)
  assert.deepEqual(details.links.join_order, ['a1', 'b1', 'a2', 'b2'])
  const labels = details.runs.map((r) => r.label)
  assert.deepEqual(labels, ['fence-adatopk', 'fence-dense', 'even-dense', 'even-adatopk'])
  // placement alone: the two plans compared with every edge dense
  assert.deepEqual(details.figures.fence_vs_even_split_measured.runs, ['even-dense', 'fence-dense'])
  for (const name of names) {
    const figure = details.figures[name]
    assert.ok(figure.runs.length > 0 && figure.runs.every((r) => labels.includes(r)), name)
    assert.equal(figure.links, 'emulated')
    assert.equal(figure.target, report.targets?.[name] ?? 'report')
  }
  // the two OP-Fence runs take as many steps (the loss gap compares them after the same number)
  const [fence, dense, even, evenTopk] = details.runs
  assert.equal(fence.steps, dense.steps)
  assert.equal(even.steps, evenTopk.steps)
  // even places its stages in join order, a1, b1, a2, b2, so it crosses between the sites three times
  for (const run of [even, evenTopk])
    assert.deepEqual(
      run.stages.map((s) => s.peer),
      ['a1', 'b1', 'a2', 'b2'],
    )
  for (const run of details.runs) assert.equal(run.stages.length, 4)
})
