/**
 * examples/mesh-demo (`atoll demo`) as a process, short: four `atoll peer` processes in two sites with
 * emulated links, gpt2:tiny trained over them as a job planned by OP-Fence with AdaTopK, coordinated
 * by the demo; summary.json and report.html; every peer process stopped at the end and on Ctrl-C.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { atoll, runScript, scratchDir } from './helpers/atoll.ts'
import { atollMain } from './helpers/peer-process.ts'

const work = scratchDir('atoll-demo-')

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}

interface Edge {
  from: number
  to: number
  crossesFence: boolean
  codec: string
  keepRatio: number
}

test('atoll demo: four peer processes in two sites, one fence between them, the loss falls, a report', () => {
  const out = join(work, 'run')
  const r = atoll('demo', '--out', out, '--steps', '30', '--eval-every', '15', '--log-every', '10')
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stderr, /step 30\/30 {2}loss/)
  const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))

  // four separate processes, none of them this one or the demo, all gone once it exited
  const procs = s.demo.processes as { name: string; site: string; pid: number }[]
  assert.deepEqual(procs.map((p) => p.name).sort(), ['a1', 'a2', 'b1', 'b2'])
  assert.equal(new Set(procs.map((p) => p.pid)).size, 4)
  for (const p of procs) {
    assert.ok(p.pid !== process.pid && p.pid !== s.demo.coordinator.pid)
    assert.match(r.stderr, new RegExp(`${p.name} +site ${p.site} +pid ${p.pid} `))
    assert.ok(!alive(p.pid), `peer ${p.name} (pid ${p.pid}) still runs`)
  }

  assert.equal(s.steps, 30)
  assert.ok(s.loss_last < s.loss_first - 0.5, `training loss ${s.loss_first} → ${s.loss_last}`)
  assert.deepEqual(
    s.eval.map((e: { step: number }) => e.step),
    [15, 30],
  )

  // OP-Fence found the sites from the probed links: two clusters, a stage on every peer
  const site = (id: string) =>
    procs.find((p) => p.name === s.peers.find((x: { id: string }) => x.id === id)?.name)?.site
  const clusters = (s.plan.clusters as { peers: string[] }[]).map((c) => [...new Set(c.peers.map(site))])
  assert.deepEqual(
    clusters.map((c) => c.length),
    [1, 1],
    JSON.stringify(clusters),
  )
  assert.notEqual(clusters[0][0], clusters[1][0])
  const stagePeers = (s.plan.stages as { peer: string; name: string }[]).map((st) => st.name)
  const measured = s.peers.map(
    (p: { name: string; flops: number }) => `${p.name} ${(p.flops / 1e9).toFixed(0)} GFLOP/s`,
  )
  assert.equal(stagePeers.length, 4, `stages on ${stagePeers} of ${measured.join(', ')}`)
  assert.equal(new Set(stagePeers).size, 4)
  // the one boundary that crosses a fence, and the only one compressed, is the one between the sites
  const edges = s.plan.edges as Edge[]
  const between = edges.filter((e) => site(s.plan.stages[e.from].peer) !== site(s.plan.stages[e.to].peer))
  assert.equal(between.length, 1, JSON.stringify(edges))
  assert.deepEqual(
    edges.filter((e) => e.crossesFence || e.codec !== 'dense'),
    between,
  )
  assert.equal(between[0].codec, 'topk-fp16')
  assert.ok(between[0].keepRatio > 0 && between[0].keepRatio < 1)

  // activations forward and their gradients back crossed every boundary's link
  const bytes = s.link_bytes as Record<string, number>
  for (const e of edges) {
    const [a, b] = [stagePeers[e.from], stagePeers[e.to]]
    assert.ok(bytes[`${a}→${b}`] > 0 && bytes[`${b}→${a}`] > 0, `${a}–${b}: ${JSON.stringify(bytes)}`)
  }

  const html = readFileSync(join(out, 'report.html'), 'utf8')
  for (const part of [
    'class="line train"',
    'class="dot eval"',
    'class="cluster c0"',
    'class="edge fence"',
    'class="bar fence"',
    'class="line predicted dashed"',
  ])
    assert.ok(html.includes(part), part)
  assert.doesNotMatch(html, /<script/i)
  assert.ok(existsSync(join(out, 'log.jsonl')) && existsSync(join(out, 'peers', 'b2.log')))
})

test('atoll demo: Ctrl-C stops every peer process it started and exits 130', {
  timeout: 120_000,
}, async () => {
  const child = spawn(process.execPath, [atollMain, 'demo', '--out', join(work, 'interrupted')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  const started = new Promise<void>((resolve) =>
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      if (/waiting for the daemons/.test(stderr)) resolve()
    }),
  )
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  await Promise.race([started, exited])
  child.kill('SIGINT')
  assert.equal(await exited, 130, stderr)
  const pids = [...stderr.matchAll(/ +site \w+ +pid (\d+) /g)].map((m) => Number(m[1]))
  assert.equal(pids.length, 4, stderr)
  for (const pid of pids) assert.ok(!alive(pid), `pid ${pid} still runs:\n${stderr}`)
})

test('atoll demo: a bad flag is a usage error naming it', () => {
  const r = atoll('demo', '--micro-batches', '3')
  assert.equal(r.status, 2)
  assert.match(r.stderr, /--micro-batches 3 must divide --batch-size 16/)
  const steps = atoll('demo', '--steps', '0')
  assert.equal(steps.status, 2)
  assert.match(steps.stderr, /UsageError: --steps: expected an integer ≥ 1, found "0"/)
  const unknown = atoll('demo', '--peers', '5')
  assert.equal(unknown.status, 2)
  assert.match(unknown.stderr, /--peers/)
})

test("atoll demo --help is the example's own usage, every flag with the default it runs with", () => {
  const cli = atoll('demo', '--help')
  const example = runScript('examples/mesh-demo/src/main.ts', ['--help'])
  assert.equal(cli.status, 0)
  assert.equal(cli.stdout, example.stdout)
  for (const line of [
    /--out DIR +.* \(default atoll-demo\)$/m,
    /--steps N +optimizer steps \(default \d+\)$/m,
    /--batch-size B +sequences of 32 bytes per step \(default 16\)$/m,
    /--micro-batches M +.*must divide B \(default 2\)$/m,
    /--lr X +peak learning rate of the cosine schedule \(default 0\.003\)$/m,
    /--seed S +weights and data order \(default 0\)$/m,
    /--eval-every K +.*\(default \d+\)$/m,
    /--probe-seconds S +.*\(default 0\.3\)$/m,
  ])
    assert.match(cli.stdout, line)
  assert.match(cli.stdout, /four `atoll peer` processes/)
})
