/**
 * A worker killed mid-run (SIGKILL): the job goes on over the peers left, from its last complete
 * checkpoint, and ends with the parameters of a run resumed by hand from that checkpoint with the same
 * plan; a replicated job's goes on without its pipeline and no re-plan, and takes a fresh peer into it
 * while it runs. `atoll peer` processes on loopback; the coordinator is trainJob in this process,
 * as in `atoll train`.
 */
import assert from 'node:assert/strict'
import { cpSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { AtollMesh, createNode, loadIdentity } from '../packages/net/src/index.ts'
import { parseJob, type TrainEvent, trainJob } from '../packages/peer/src/index.ts'
import { parseSynchronizerSpec } from '../packages/sync/src/index.ts'
import { readJobCheckpoint } from '../packages/peer/src/job/job-checkpoint.ts'
import { scratchDir } from './helpers/atoll.ts'
import { PeerProcess } from './helpers/peer-process.ts'

const daemons: PeerProcess[] = []
let coordinator: AtollMesh
const work = scratchDir('atoll-fault-')

before(async () => {
  const privateKey = await loadIdentity(join(work, 'coordinator'))
  coordinator = new AtollMesh(
    await createNode({ privateKey, listen: ['/ip4/127.0.0.1/tcp/0'], webrtc: false }),
  )
  await coordinator.start()
  const first = await startDaemon('w0')
  for (const k of [1, 2, 3]) await startDaemon(`w${k}`, first)
})

after(async () => {
  await coordinator.stop(0)
  await Promise.all(daemons.map((d) => d.stop('SIGTERM')))
  for (const d of daemons) rmSync(d.dataDir, { recursive: true, force: true })
  rmSync(work, { recursive: true, force: true })
})

/** The job, checkpointing every 2 of its 8 steps into `dir`, placed `even` (the same plan for the same peers). */
const job = (dir: string) =>
  parseJob(
    [
      'name: fault',
      'model: { zoo: gpt2:tiny, seed: 4 }',
      'data: { dataset: moby-dick, seq: 16, batchSize: 4, seed: 2 }',
      'steps: 8',
      'optimizer: { kind: adamw, weightDecay: 0.1 }',
      'schedule: { kind: constant, lr: 0.002 }',
      'clip: 1',
      'microBatches: 2',
      'placement: even',
      'compression: none',
      `checkpoint: { dir: ${JSON.stringify(dir)}, every: 2 }`,
      'eval: { every: 0, batches: 2 }',
    ].join('\n'),
    join(work, 'job.yaml'),
  )

async function train(dir: string, onEvent: (e: TrainEvent) => void = () => {}, resume?: string) {
  return trainJob({
    job: job(dir),
    mesh: coordinator,
    membership: daemons[0].addresses,
    linkWaitMs: 60_000,
    events: onEvent,
    resume,
  })
}

/** A daemon that takes this coordinator's stages, joined through `bootstrap` when given. */
async function startDaemon(name: string, bootstrap?: PeerProcess, extra: string[] = []) {
  const join = bootstrap === undefined ? [] : ['--bootstrap', bootstrap.addresses[0]]
  const d = await PeerProcess.start([
    '--probe-seconds',
    '0.2',
    ...extra,
    '--allow',
    coordinator.peerId,
    '--name',
    name,
    ...join,
  ])
  daemons.push(d)
  return d
}

/** Daemons joined through the first, once the first knows every other (the plan is made over its membership). */
async function startMesh(names: string[], extra: string[] = []): Promise<PeerProcess[]> {
  const first = await startDaemon(names[0], undefined, extra)
  const started = [first]
  for (const name of names.slice(1)) started.push(await startDaemon(name, first, extra))
  for (const d of started.slice(1))
    await first.waitForLog((l) => l.msg === 'peer joined' && l.peer === d.peerId, 60_000)
  return started
}

test('a worker killed mid-run: the job finishes on the peers left and ends as a run resumed by hand from the same checkpoint', {
  timeout: 300_000,
}, async () => {
  const victim = daemons[2]
  const kept = join(work, 'at-step-4')
  const faulted = await train(join(work, 'faulted'), (e) => {
    // after the checkpoint at step 4 (written before the event), keep a copy and kill a worker
    if (e.kind === 'checkpoint' && e.step === 4) {
      cpSync(join(work, 'faulted'), kept, { recursive: true })
      victim.child.kill('SIGKILL')
    }
  })
  assert.equal(faulted.steps, 8)
  assert.deepEqual(
    faulted.replans.map((r) => [r.lost, r.resumed_at]),
    [[['w2'], 4]],
    'one re-plan, without the killed peer, from the checkpoint at step 4',
  )
  assert.equal(faulted.plan.stages.length, 3)
  assert.ok(!faulted.plan.stages.some((s) => s.peer === victim.peerId))
  const byHand = await train(join(work, 'by-hand'), undefined, kept)
  assert.equal(byHand.start, 4)
  assert.deepEqual(byHand.plan.stages, faulted.plan.stages, 'the same plan')
  const a = await readJobCheckpoint(join(work, 'faulted'), 'fault')
  const b = await readJobCheckpoint(join(work, 'by-hand'), 'fault')
  assert.deepEqual([a.step, b.step], [8, 8])
  for (const [name, t] of a.params) assert.deepEqual(b.params.get(name)?.data, t.data, name)
  assert.deepEqual(faulted.losses.slice(4), byHand.losses)
})

test('a peer that joins a running job is given a stage at the next checkpoint', {
  timeout: 300_000,
}, async () => {
  const alive = daemons.filter((d) => d.child.exitCode === null && d.child.signalCode === null)
  let joiner: PeerProcess | undefined
  let starting = false
  const events: TrainEvent[] = []
  // long enough for the joiner to start and be probed; stopped (as by Ctrl-C) 3 steps after it got work
  const stop = new AbortController()
  const spec = {
    ...job(join(work, 'joined')),
    steps: 100_000,
    checkpoint: { dir: join(work, 'joined'), every: 4 },
  }
  const summary = await trainJob({
    job: spec,
    mesh: coordinator,
    membership: alive[0].addresses,
    linkWaitMs: 60_000,
    signal: stop.signal,
    events: (e) => {
      events.push(e)
      const joined = events.find((x) => x.kind === 'joined')
      if (e.kind === 'step' && joined !== undefined && e.result.step >= joined.step + 2) stop.abort()
      if (e.kind === 'step' && e.result.step === 1 && !starting) {
        starting = true
        void startDaemon('late', alive[0]).then((d) => {
          joiner = d
        })
      }
    },
  })
  const joined = events.find((e) => e.kind === 'joined')
  assert.ok(joined !== undefined && joiner, 'the joiner was given work')
  assert.deepEqual(joined.peers, [joiner.peerId])
  assert.equal(joined.step % 4, 0, 'at a checkpoint')
  assert.ok(
    summary.plan.stages.some((s) => s.peer === joiner?.peerId),
    'the last plan has a stage on it',
  )
  assert.equal(summary.plan.stages.length, alive.length + 1)
  assert.equal(summary.steps, joined.step + 3, 'the steps before the join are kept, none redone')
})

test('every worker killed mid-run: the job fails with the step that lost them, not with an empty membership', {
  timeout: 300_000,
}, async () => {
  const alive = daemons.filter((d) => d.child.exitCode === null && d.child.signalCode === null)
  let placed: string[] = []
  const run = trainJob({
    job: job(join(work, 'all-gone')),
    mesh: coordinator,
    membership: alive[0].addresses,
    linkWaitMs: 60_000,
    events: (e) => {
      if (e.kind === 'plan') placed = e.placement.stages.map((s) => s.peer)
      // after step 2 (the next one, 3, is no checkpoint's): the step that follows loses them all
      if (e.kind === 'step' && e.result.step === 2) for (const d of alive) d.child.kill('SIGKILL')
    },
  })
  await assert.rejects(run, (err: Error) => {
    assert.equal(err.name, 'StepFailedError')
    assert.match(err.message, /^step \d+ failed: .*lost/)
    return true
  })
  assert.equal(placed.length, alive.length, 'every peer had a stage')
})

test('a worker that dies just before a checkpoint is lost at the save: the job re-plans from the last one', {
  timeout: 300_000,
}, async () => {
  const alive = await startMesh(['v0', 'v1', 'v2'])
  const events: TrainEvent[] = []
  const summary = await trainJob({
    job: job(join(work, 'lost-at-save')),
    mesh: coordinator,
    membership: alive[0].addresses,
    linkWaitMs: 60_000,
    events: (e) => {
      events.push(e)
      // after step 3 (step 4 is a checkpoint's: the save is the first call the dead worker misses)
      if (e.kind === 'step' && e.result.step === 3 && !events.some((x) => x.kind === 'lost'))
        alive[1].child.kill('SIGKILL')
    },
  })
  const lost = events.find((e) => e.kind === 'lost')
  assert.ok(lost !== undefined, 'a worker was lost')
  assert.deepEqual(lost.peers, [alive[1].peerId])
  assert.equal(lost.resumeAt, 2, 'from the checkpoint before the failed save')
  assert.equal(summary.steps, 8)
})

test('a replicated job: a pipeline whose peer dies leaves without a re-plan, and a fresh peer fills it while the job runs', {
  timeout: 300_000,
}, async () => {
  // every link shaped alike, so that OP-Fence sees one cluster whatever else loads the machine
  const shaped = ['--emulate-link', '20mbit,2ms']
  const replicas = await startMesh(['r0', 'r1', 'r2'], shaped)
  const first = replicas[0]
  const dir = join(work, 'replicated')
  const base = job(dir)
  const spec = {
    ...base,
    name: 'replicated',
    steps: 100_000,
    data: { ...base.data, batchSize: 6 },
    placement: 'fence' as const,
    sync: parseSynchronizerSpec({ algorithm: 'ssgd' }, 'sync'),
    checkpoint: { dir, every: 2 },
  }
  const events: TrainEvent[] = []
  const stop = new AbortController()
  let joiner: Promise<PeerProcess> | undefined
  let leftAt = Number.POSITIVE_INFINITY
  const summary = await trainJob({
    job: spec,
    mesh: coordinator,
    membership: first.addresses,
    linkWaitMs: 60_000,
    signal: stop.signal,
    events: (e) => {
      events.push(e)
      // once the dead replica's pipeline has left, a fresh peer starts
      if (e.kind === 'left') {
        leftAt = performance.now()
        joiner = startDaemon('r3', first, shaped)
      }
      if (e.kind !== 'step') return
      if (e.result.step === 2) replicas[2].child.kill('SIGKILL')
      const admitted = events.find((x) => x.kind === 'admitted')
      // a step after the joiner's first; a bound should it never be admitted (it starts and is probed in seconds)
      if ((admitted !== undefined && e.result.step > admitted.step) || performance.now() - leftAt > 120_000)
        stop.abort()
    },
  })
  const fresh = await joiner
  const left = events.find((e) => e.kind === 'left')
  assert.ok(left !== undefined && fresh !== undefined, 'the pipeline left')
  assert.deepEqual(left.peers, [replicas[2].peerId])
  assert.equal(left.pipelines, 2)
  const admitted = events.find((e) => e.kind === 'admitted')
  assert.ok(admitted !== undefined, 'the fresh peer was admitted')
  assert.deepEqual(admitted.peers, [fresh.peerId])
  assert.equal(admitted.pipelines, 3)
  assert.ok(!events.some((e) => e.kind === 'lost' || e.kind === 'joined'), 'no re-plan')
  assert.equal(summary.replans.length, 0)
  const steps = events.flatMap((e) => (e.kind === 'step' ? [e.result.step] : []))
  assert.deepEqual(
    steps,
    steps.map((_, k) => k),
    'every step once, none redone',
  )
  assert.deepEqual(
    summary.membership.map((m) => [m.step, m.change, m.peers]),
    [
      [left.step, 'left', ['r2']],
      [admitted.step, 'admitted', ['r3']],
    ],
  )
})

test('a worker stopped with SIGTERM ends its step and says so: the job re-plans without it from a checkpoint taken then, and redoes nothing', {
  timeout: 300_000,
}, async () => {
  const started = await startMesh(['s0', 's1', 's2'])
  const events: TrainEvent[] = []
  let stopped: Promise<number | null> | undefined
  const summary = await trainJob({
    job: job(join(work, 'stopped')),
    mesh: coordinator,
    membership: started[0].addresses,
    linkWaitMs: 60_000,
    events: (e) => {
      events.push(e)
      if (e.kind === 'step' && e.result.step === 2 && stopped === undefined) {
        started[1].child.kill('SIGTERM')
        stopped = new Promise((resolve) => started[1].child.once('exit', (code) => resolve(code)))
      }
    },
  })
  const left = events.find((e) => e.kind === 'left')
  assert.ok(left !== undefined, 'the stopping peer was let go')
  assert.deepEqual([left.peers, left.pipelines, left.why], [[started[1].peerId], 0, 'stopping'])
  assert.ok(
    events.some((e) => e.kind === 'checkpoint' && e.step === left.step),
    'a checkpoint at that step',
  )
  assert.ok(!events.some((e) => e.kind === 'lost'), 'no step failed')
  assert.equal(await stopped, 0, 'the daemon exited cleanly')
  const steps = events.flatMap((e) => (e.kind === 'step' ? [e.result.step] : []))
  assert.deepEqual(
    steps,
    steps.map((_, k) => k),
    'every step once, none redone',
  )
  assert.equal(summary.steps, 8)
  assert.deepEqual(summary.replans, [])
  assert.ok(!summary.plan.stages.some((s) => s.peer === started[1].peerId), 'the last plan is without it')
})
