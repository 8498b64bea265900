/**
 * examples/mesh-demo (`atoll demo`) as a process, short: three peers on loopback with emulated
 * links, gpt2:tiny in three stages along the fastest chain, every boundary tensor over the mesh.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { atoll, runScript, scratchDir } from './helpers/atoll.ts'

const work = scratchDir('atoll-demo-')

test('atoll demo: measured links, placement along the fastest chain, loss falls, tensors cross the mesh', () => {
  const out = join(work, 'demo.json')
  const r = atoll('demo', '--steps', '30', '--log-every', '10', '--json', out)
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stderr, /step 30\/30 {2}loss/)
  const s = JSON.parse(readFileSync(out, 'utf8'))
  // probes never read above the shaped rate; a loaded machine may read the fast link low
  for (const l of s.links)
    assert.ok(
      l.mbit <= 1.15 * l.setMbit && l.mbit >= 0.5 * l.setMbit,
      `${l.a}–${l.b}: ${l.mbit} vs ${l.setMbit} Mbit/s`,
    )
  // the 10 Mbit/s lab–home link is left out: lab → cloud (200) → home (20), or the reverse
  assert.deepEqual([s.chain[1], [s.chain[0], s.chain[2]].sort()], ['cloud', ['home', 'lab']])
  assert.equal(s.stages.length, 3)
  const codecs = s.stages.slice(1).map((st: { codecIn: string }) => st.codecIn)
  assert.deepEqual(codecs, s.chain[0] === 'lab' ? ['raw', 'fp16'] : ['fp16', 'raw'])
  // both boundaries carry the same [micro-batch, 32, 64] activations: fp16 halves the bytes exactly
  const bytes = s.linkBytes as Record<string, number>
  assert.equal(bytes['lab→cloud'] ?? bytes['cloud→lab'], 2 * (bytes['cloud→home'] ?? bytes['home→cloud']))
  assert.equal(bytes['lab→cloud'], bytes['cloud→lab']) // activations forward, their gradients back
  assert.ok(bytes['lab→home'] === undefined && bytes['home→lab'] === undefined)
  assert.ok(s.lastLoss < s.firstLoss - 0.5, `training loss ${s.firstLoss} → ${s.lastLoss}`)
  assert.ok(
    s.heldOutLossAfter < s.heldOutLossBefore - 1,
    `held-out ${s.heldOutLossBefore} → ${s.heldOutLossAfter}`,
  )
  assert.ok(s.transferSeconds > 0 && s.transferSeconds < s.trainSeconds)
})

test('atoll demo: a bad flag is a usage error naming it', () => {
  const r = atoll('demo', '--micro-batches', '3')
  assert.equal(r.status, 2)
  assert.match(r.stderr, /--micro-batches 3 must divide --batch-size 16/)
  const steps = atoll('demo', '--steps', '0')
  assert.equal(steps.status, 2)
  assert.match(steps.stderr, /UsageError: --steps: expected an integer ≥ 1, found "0"/)
})

test("atoll demo --help is the example's own usage, every flag with the default it runs with", () => {
  const cli = atoll('demo', '--help')
  const example = runScript('examples/mesh-demo/src/main.ts', ['--help'])
  assert.equal(cli.status, 0)
  assert.equal(cli.stdout, example.stdout)
  for (const line of [
    /--steps N +optimizer steps \(default 150\)$/m,
    /--batch-size B +sequences of 32 bytes per step \(default 16\)$/m,
    /--micro-batches M +micro-batches per step; must divide B \(default 2\)$/m,
    /--lr X +peak learning rate of the cosine schedule \(default 0\.003\)$/m,
    /--seed S +weights and data order \(default 0\)$/m,
    /--log-every K +progress every K steps \(default 10\)$/m,
    /--json FILE +write the summary/m,
  ])
    assert.match(cli.stdout, line)
})
