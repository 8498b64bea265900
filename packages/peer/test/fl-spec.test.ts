/**
 * FL.yaml files: a short file gets every default, each malformed file is refused naming the field,
 * what was expected and what was found; the clients' shards (runtime's partitioners) are disjoint,
 * seeded, and capped as asked; the server's held-out images span the classes of a test set stored
 * class by class.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { stringify } from 'yaml'
import { heldOutImages } from '@atoll/runtime'
import { clientShard, FlSpecError, parseFlSpec } from '../src/index.ts'

const BASE = { name: 'fmnist', model: 'mlp', dataset: 'fashion-mnist', rounds: 3 }

test('a short FL.yaml gets the defaults, the checkpoint folder beside the file', () => {
  const spec = parseFlSpec(stringify(BASE), '/srv/fl/FL.yaml')
  assert.deepEqual(spec.model, { zoo: 'mlp', seed: 0 })
  assert.deepEqual(spec.strategy, { name: 'fedavg' })
  assert.deepEqual(spec.clients, { fraction: 1, min: 1, seed: 0 })
  assert.deepEqual(spec.local, { epochs: 1, maxSteps: 0, batchSize: 32, lr: 0.05, momentum: 0 })
  assert.deepEqual(spec.server, { lr: 1 })
  assert.equal(spec.deadlineSeconds, 60)
  assert.equal(spec.checkpoint.dir, '/srv/fl/checkpoints/fmnist')
  const bcrs = parseFlSpec(
    stringify({ ...BASE, strategy: { name: 'bcrs-opwa', keepRatio: 0.1 } }),
    '/x/FL.yaml',
  )
  assert.deepEqual(bcrs.strategy, { name: 'bcrs-opwa', keepRatio: 0.1 })
})

const CASES: [string, Record<string, unknown>, RegExp][] = [
  ['rounds 0', { rounds: 0 }, /FL\.yaml: rounds: expected an integer in \[1, 1000000\], found 0/],
  [
    'a model that is not an image classifier',
    { model: 'gpt2:tiny' },
    /model: expected a zoo image classifier \(mlp, mnist-cnn\)/,
  ],
  [
    'an unknown strategy',
    { strategy: 'fedprox' },
    /strategy: expected fedavg, \{ name: fedavg-topk, keepRatio \}/,
  ],
  ['top-k without a ratio', { strategy: { name: 'fedavg-topk' } }, /strategy/],
  ['a ratio over 1', { strategy: { name: 'bcrs-opwa', keepRatio: 2 } }, /strategy/],
  [
    'a budget outside its clamps',
    { strategy: { name: 'bcrs-opwa', keepRatio: 0.1, minRatio: 0.2 } },
    /strategy\.keepRatio: expected between minRatio and maxRatio, found 0\.1/,
  ],
  ['a misspelt field', { local: { epoch: 2 } }, /local/],
  ['a text dataset', { dataset: 'moby-dick' }, /dataset: expected one of/],
  ['a fraction of 0', { clients: { fraction: 0 } }, /clients\.fraction/],
  [
    'an eval batch over its samples',
    { eval: { samples: 10, batchSize: 20 } },
    /eval\.batchSize: expected at most eval\.samples \(10\), found 20/,
  ],
  ['a bad name', { name: 'Has Spaces' }, /name: expected a federation name/],
]

for (const [what, change, message] of CASES) {
  test(`FL.yaml with ${what} is refused naming the field`, () => {
    assert.throws(
      () => parseFlSpec(stringify({ ...BASE, ...change }), 'FL.yaml'),
      (err: Error) => err instanceof FlSpecError && message.test(err.message),
    )
  })
}

test('YAML syntax errors name the line', () => {
  assert.throws(
    () => parseFlSpec('name: a\nname: b\n', 'FL.yaml'),
    /FL\.yaml: line 2, column 1: Map keys must be unique/,
  )
})

test('client shards: disjoint for one seed, a Dirichlet split skewed by label, capped by a seeded choice', () => {
  const labels = Uint8Array.from({ length: 3000 }, (_, i) => i % 10)
  for (const alpha of [undefined, 0.5]) {
    const parts = [0, 1, 2].map((index) => clientShard(labels, { index, count: 3, alpha, seed: 7 }))
    const all = parts.flatMap((p) => [...p])
    assert.equal(new Set(all).size, labels.length, `alpha ${alpha}: every sample in one part`)
    assert.deepEqual(clientShard(labels, { index: 1, count: 3, alpha, seed: 7 }), parts[1])
  }
  const iid = clientShard(labels, { index: 0, count: 3, seed: 7 })
  const skewed = clientShard(labels, { index: 0, count: 3, alpha: 0.1, seed: 7 })
  const classes = (part: Uint32Array) => new Set([...part].map((i) => labels[i])).size
  assert.equal(classes(iid), 10)
  assert.ok(classes(skewed) < 10, `${classes(skewed)} classes`)
  const capped = clientShard(labels, { index: 0, count: 3, alpha: 0.5, seed: 7, maxSamples: 50 })
  const whole = new Set(clientShard(labels, { index: 0, count: 3, alpha: 0.5, seed: 7 }))
  assert.equal(capped.length, 50)
  assert.ok([...capped].every((i) => whole.has(i)))
})

test("the server's held-out images: a fixed choice over every class of a test set stored class by class", () => {
  const count = 1000
  const labels = Uint8Array.from({ length: count }, (_, i) => Math.floor(i / 100))
  const pixels = new Uint8Array(count * 4)
  const testSet = { name: 'fashion-mnist', pixels, labels, count, height: 2, width: 2, classes: 10 }
  const chosen = heldOutImages(testSet, 200)
  assert.equal(chosen.count, 200)
  // the first 200 would be classes 0 and 1 only
  assert.equal(new Set(chosen.labels).size, 10, `classes ${[...new Set(chosen.labels)]}`)
  assert.deepEqual(heldOutImages(testSet, 200).labels, chosen.labels, 'the same choice each time')
  assert.equal(heldOutImages(testSet, 5000).count, count, 'at most the whole set')
})
