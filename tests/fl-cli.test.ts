/**
 * `atoll fl serve` and `atoll fl join` as processes on 127.0.0.1: a server and three Node clients
 * (real libp2p, real onnxruntime, Fashion-MNIST shards from a Dirichlet split) run two bcrs-opwa
 * rounds and the held-out accuracy rises; then the server is started again on the same checkpoint
 * folder with a third round and one client, and goes on from the checkpoint. Small on purpose (400
 * samples a client, two local epochs): CI has two cores, and most of the time is the processes' start.
 * Every process is stopped by its pid when the file is done.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadCheckpoint } from '../packages/runtime/src/index.ts'
import { scratchDir } from './helpers/atoll.ts'
import { AtollProcess } from './helpers/atoll-process.ts'
import { flMetrics, writeFlFile } from './helpers/fl.ts'

const dir = scratchDir('atoll-fl-')
const flFile = join(dir, 'FL.yaml')

function writeFl(rounds: number, minClients: number, model = 'mlp', file = flFile): void {
  writeFlFile(file, {
    name: `fmnist-${model}`,
    model,
    dataset: 'fashion-mnist',
    strategy: '{ name: bcrs-opwa, keepRatio: 0.3, minRatio: 0.05 }',
    rounds,
    clients: `{ fraction: 1, min: ${minClients} }`,
    deadlineSeconds: 120,
    local: '{ epochs: 2, batchSize: 32, lr: 0.1 }',
    eval: '{ samples: 500, batchSize: 250 }',
    checkpoint: '{ dir: ckpt }',
  })
}

/** Starts the server and the clients, each client on part k of 3; returns them. */
async function federation(
  clients: number,
  file = flFile,
): Promise<{ server: AtollProcess; clients: AtollProcess[] }> {
  const server = new AtollProcess(['fl', 'serve', file, '--port', '0', '--host', '127.0.0.1'])
  const [, address] = await server.waitFor(
    /^serving federation \S+ at (\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/\w+)$/,
  )
  const joined = Array.from(
    { length: clients },
    (_, k) =>
      new AtollProcess([
        'fl',
        'join',
        address,
        '--partition',
        `${k + 1}/3`,
        '--alpha',
        '1',
        '--samples',
        '400',
        '--probe-seconds',
        '0.1',
      ]),
  )
  return { server, clients: joined }
}

const accuracy = (match: RegExpMatchArray) => Number(match[1])
const ACCURACY = /held-out accuracy ([\d.]+) %/

test('a server and three Node clients run two bcrs-opwa rounds; the held-out accuracy rises', async () => {
  writeFl(2, 3)
  const { server, clients } = await federation(3)
  const start = accuracy(await server.waitFor(new RegExp(`^start: ${ACCURACY.source}`)))
  await Promise.all([server.success(), ...clients.map((c) => c.success())])
  const metrics = flMetrics(dir)
  assert.deepEqual(
    metrics.map((m) => [m.round, m.selected, m.accepted]),
    [
      [0, 3, 3],
      [1, 3, 3],
    ],
  )
  // bcrs-opwa: each client's keep ratio from its probe, their mean the budget
  const ratios = Object.values(metrics[0].keepRatios as Record<string, number>)
  assert.ok(Math.abs(ratios.reduce((a, b) => a + b, 0) / ratios.length - 0.3) < 1e-9, String(ratios))
  assert.ok(metrics[0].accuracy > start / 100, `accuracy ${start} % → ${metrics.map((m) => m.accuracy)}`)
  assert.ok(
    metrics[1].accuracy > start / 100 + 0.2,
    `accuracy ${start} % → ${metrics.map((m) => m.accuracy)}`,
  )
  for (const c of clients)
    assert.ok(
      c.lines.some((l) => /^done: updates accepted in 2 round\(s\)$/.test(l)),
      c.lines.join('\n'),
    )
  const record = JSON.parse(readFileSync(join(dir, 'ckpt', 'latest.json'), 'utf8'))
  assert.equal(record.step, 2)
})

test('a server started again on its checkpoint folder goes on from the last round with its model', async () => {
  const before = flMetrics(dir)
  writeFl(3, 1)
  const { server, clients } = await federation(1)
  await server.waitFor(/^resumed from \S+ at round 2$/)
  const start = accuracy(await server.waitFor(new RegExp(`^start: ${ACCURACY.source}`)))
  // the same model on the same held-out images: the accuracy the last round ended with
  assert.equal(start.toFixed(2), (100 * before[1].accuracy).toFixed(2))
  await Promise.all([server.success(), ...clients.map((c) => c.success())])
  const metrics = flMetrics(dir)
  assert.deepEqual(
    metrics.map((m) => [m.round, m.accepted]),
    [
      [0, 3],
      [1, 3],
      [2, 1],
    ],
  )
  assert.equal(JSON.parse(readFileSync(join(dir, 'ckpt', 'latest.json'), 'utf8')).step, 3)
})

test('the MNIST CNN federates: its BatchNorm statistics are averaged, checkpointed and resumed with the model', async () => {
  const cnnDir = scratchDir('atoll-fl-cnn-')
  const file = join(cnnDir, 'FL.yaml')
  writeFl(1, 2, 'mnist-cnn', file)
  const first = await federation(2, file)
  const start = accuracy(await first.server.waitFor(new RegExp(`^start: ${ACCURACY.source}`)))
  await Promise.all([first.server.success(), ...first.clients.map((c) => c.success())])
  const [round] = flMetrics(cnnDir)
  assert.deepEqual([round.round, round.accepted], [0, 2])
  assert.ok(round.accuracy > start / 100 + 0.2, `accuracy ${start} % → ${round.accuracy}`)
  // the checkpoint holds the averaged statistics: moved off BatchNorm's start (means 0, variances 1)
  const saved = await loadCheckpoint(join(cnnDir, 'ckpt'))
  const stats = [...(saved?.state ?? new Map())]
  assert.ok(stats.length >= 2, `running statistics in the checkpoint: ${stats.map(([n]) => n)}`)
  for (const [name, t] of stats) {
    const start = /var/.test(name) ? 1 : 0
    assert.ok(
      (t.data as Float32Array).some((v) => Math.abs(v - start) > 1e-3),
      `${name} still at its start`,
    )
  }
  // resumed: the same model, running statistics included, scores what the round ended with
  writeFl(2, 1, 'mnist-cnn', file)
  const again = await federation(1, file)
  await again.server.waitFor(/^resumed from \S+ at round 1$/)
  const resumed = accuracy(await again.server.waitFor(new RegExp(`^start: ${ACCURACY.source}`)))
  assert.equal(resumed.toFixed(2), (100 * round.accuracy).toFixed(2))
  await Promise.all([again.server.success(), ...again.clients.map((c) => c.success())])
})
