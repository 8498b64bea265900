/**
 * examples/mnist-cnn as a process, in a short configuration: the loss falls and the test accuracy
 * is far above chance (10%). The full run (≥ 97%) is in the example's README.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { runScript, scratchDir } from './helpers/atoll.ts'

const work = scratchDir('atoll-example-mnist-')
const example = (...args: string[]) => runScript('examples/mnist-cnn/src/main.ts', args)

test('mnist-cnn: 80 steps lower the loss and classify the test digits far above chance', () => {
  const log = join(work, 'steps.jsonl')
  const r = example('--steps', '80', '--batch-size', '32', '--log-every', '40', '--log', log)
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stderr, /step 40\/80 {2}epoch 0\.15 {2}loss/)
  const s = JSON.parse(r.stdout)
  // the mnist package's 10 000 digits, a seventh of each class held out
  assert.deepEqual([s.trainImages, s.testImages, s.steps], [8571, 1429, 80])
  assert.ok(s.lastLoss < s.firstLoss * 0.6, `loss ${s.firstLoss} → ${s.lastLoss}`)
  assert.ok(s.testAccuracy > 0.7, `test accuracy ${s.testAccuracy}`)
  const lines = readFileSync(log, 'utf8').trim().split('\n')
  assert.deepEqual(JSON.parse(lines[79]).step, 79)
})

test('mnist-cnn: a bad flag is a usage error (exit 2) that names it', () => {
  const r = example('--batch-size', '0')
  assert.equal(r.status, 2)
  assert.match(r.stderr, /UsageError: --batch-size: expected an integer ≥ 1, found "0"/)
  assert.equal(example('--optimiser', 'sgd').status, 2)
})
