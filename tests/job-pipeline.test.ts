/**
 * Pipeline jobs across `atoll peer` processes on loopback, driven by a coordinator in this process on
 * its own mesh (its identity made first, so that its peer id goes into the daemons' --allow): the GPT
 * with a tied embedding in 3 stages on 3 daemons ends bit-identical to the same stages run in one
 * process; a coordinator not on the allow-list is refused and changes nothing; tensors of another job
 * or from a non-member are refused at their header; a daemon drops a job whose coordinator went away
 * for --job-timeout, and a later call for it is told the job is not run there.
 */
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { after, before, test } from 'node:test'
import type { Partition } from '../packages/core/src/index.ts'
import { AtollMesh, createNode, loadIdentity, type PeerId } from '../packages/net/src/index.ts'
import type { JobPeer } from '../packages/peer/src/index.ts'
import {
  coordinatorOf,
  inOneProcess,
  largestDifference,
  partitionOf,
  runJob,
  tiedGptSetting,
} from '../packages/peer/test/pipeline-reference.ts'
import { type Backend, nodeBackends } from '../packages/runtime/src/index.ts'
import { scratchDir } from './helpers/atoll.ts'
import { type LogLine, PeerProcess } from './helpers/peer-process.ts'

const daemons: PeerProcess[] = []
const meshes: AtollMesh[] = []
let coordinator: AtollMesh
let workers: PeerProcess[]
let backend: Backend

/** A mesh on loopback with the identity kept in `dataDir` (created there on first use). */
async function meshWithIdentity(dataDir: string): Promise<AtollMesh> {
  const privateKey = await loadIdentity(dataDir)
  const mesh = new AtollMesh(
    await createNode({ privateKey, listen: ['/ip4/127.0.0.1/tcp/0'], webrtc: false }),
  )
  await mesh.start()
  meshes.push(mesh)
  return mesh
}

/** Starts a daemon, kept at once so that `after` stops it even when a sibling fails to start. */
async function daemon(args: string[]): Promise<PeerProcess> {
  const started = await PeerProcess.start(['--probe-seconds', '0.2', '--metrics-port', '0', ...args])
  daemons.push(started)
  return started
}

before(async () => {
  backend = await nodeBackends().resolve('cpu')
  coordinator = await meshWithIdentity(scratchDir('atoll-coordinator-'))
  workers = await Promise.all([0, 1, 2].map(() => daemon(['--allow', coordinator.peerId])))
})

after(async () => {
  for (const mesh of meshes) await mesh.stop(0)
  const exits = await Promise.all(daemons.map((d) => d.stop('SIGTERM')))
  for (const d of daemons) rmSync(d.dataDir, { recursive: true, force: true })
  assert.deepEqual(
    exits.map((e) => e.code),
    daemons.map(() => 0),
  )
})

const peersOf = (processes: PeerProcess[]): JobPeer[] =>
  processes.map((p) => ({ peerId: p.peerId, addresses: p.addresses }))

/** A value of the daemon's Prometheus metrics, e.g. `atoll_jobs_running`. */
async function metric(peer: PeerProcess, name: string): Promise<number> {
  const started = await peer.waitForLog((l) => l.msg === 'peer started')
  const text = await (await fetch(String(started.metrics))).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  assert.ok(line !== undefined, `${peer.peerId} has no metric ${name}`)
  return Number(line.split(' ')[1])
}

const logsOf = (peer: PeerProcess, test: (l: LogLine) => boolean) => peer.logs.filter(test)

test('a GPT in 3 stages on 3 atoll peer processes ends bit-identical to one process', {
  timeout: 240_000,
}, async () => {
  const s = tiedGptSetting('gpt-pipeline')
  const partition = partitionOf(s)
  assert.deepEqual(partition.parameterStages.get('wte.weight'), [0, 2], 'the embedding is tied')
  const job = coordinatorOf(coordinator, s, partition, peersOf(workers))
  await job.assign()
  assert.deepEqual(await Promise.all(workers.map((w) => metric(w, 'atoll_jobs_running'))), [1, 1, 1])
  const across = await runJob(job, s)
  await job.stop()
  const one = await inOneProcess(s, partition, backend)
  assert.deepEqual(across.losses, one.losses)
  assert.equal(largestDifference(across.params, one.params, s.model.graph), 0)
  for (const [stage, w] of workers.entries()) {
    const assigned = await w.waitForLog((l) => l.msg === 'stage assigned' && l.job === s.id)
    assert.deepEqual([assigned.stage, assigned.of, assigned.from], [stage, 3, coordinator.peerId])
    await w.waitForLog((l) => l.msg === 'job stopped' && l.job === s.id)
    assert.deepEqual(
      logsOf(w, (l) => l.msg === 'tensor dropped'),
      [],
      'no tensor was late or foreign',
    )
  }
  assert.deepEqual(await Promise.all(workers.map((w) => metric(w, 'atoll_jobs_running'))), [0, 0, 0])
  // per job: every stage ran its 5 steps; the last holds the loss, the first sent its activations on
  const steps = `atoll_job_steps_total{job="${s.id}"}`
  assert.deepEqual(await Promise.all(workers.map((w) => metric(w, steps))), [5, 5, 5])
  assert.equal(await metric(workers[2], `atoll_job_loss{job="${s.id}"}`), across.losses[4])
  const sent = `atoll_job_bytes_sent_total{job="${s.id}",peer="${workers[1].peerId}"}`
  assert.ok((await metric(workers[0], sent)) > 0)
})

test('a coordinator not on the allow-list is refused, naming the allow-list; nothing changes on the worker', {
  timeout: 60_000,
}, async () => {
  const stranger = await meshWithIdentity(scratchDir('atoll-stranger-'))
  const s = tiedGptSetting('gpt-intruder')
  const job = coordinatorOf(stranger, s, partitionOf(s), peersOf(workers))
  await assert.rejects(job.assign(), (err: Error) => {
    assert.match(
      err.message,
      new RegExp(`JobAssignmentError: coordinator ${stranger.peerId} is not on this peer's allow-list`),
    )
    return true
  })
  for (const w of workers) {
    const refused = await w.waitForLog((l) => l.msg === 'stage refused: coordinator not on the allow-list')
    assert.deepEqual([refused.from, refused.job], [stranger.peerId, s.id])
    assert.equal(logsOf(w, (l) => l.msg === 'stage assigned' && l.job === s.id).length, 0)
    assert.equal(await metric(w, 'atoll_jobs_running'), 0)
  }
  // its blobs are refused at the header too: nothing of a stranger's is held
  await assert.rejects(
    stranger.tensors.send(workers[0].peerId, fields(s.id, `blob:${'0'.repeat(64)}`), new Uint8Array(4)),
    (err: Error) => {
      assert.equal(err.name, 'TransferRejectedError')
      assert.match(err.message, new RegExp(`${stranger.peerId} is not a coordinator this peer accepts`))
      return true
    },
  )
})

/** The header fields of four bytes on `edge` of `job`, step 0, micro-batch 0. */
function fields(job: string, edge: string) {
  return {
    job,
    step: 0,
    mb: 0,
    edge,
    dtype: 'uint8' as const,
    shape: [4],
    codec: 'raw' as const,
    codecMeta: {},
  }
}

test('tensors for a job the worker does not run, or from a peer that is not a member, are refused at the header', {
  timeout: 120_000,
}, async () => {
  const s = tiedGptSetting('gpt-gate')
  const job = coordinatorOf(coordinator, s, partitionOf(s), peersOf(workers))
  await job.assign()
  const target = workers[1]
  const refusedWith = (reason: RegExp) => (err: Error) => {
    assert.equal(err.name, 'TransferRejectedError')
    assert.match(err.message, new RegExp(`^tensor refused by ${target.peerId}: `))
    assert.match(err.message, reason)
    assert.match(err.message, /\(TensorRefusedError\)$/)
    return true
  }
  await assert.rejects(
    coordinator.tensors.send(target.peerId, fields('another-job', 'act:x'), new Uint8Array(4)),
    refusedWith(/job 'another-job' is not run here/),
  )
  // the coordinator drives the job but is not one of its members: its tensors are not the job's
  await assert.rejects(
    coordinator.tensors.send(target.peerId, fields(s.id, 'act:x'), new Uint8Array(4)),
    refusedWith(new RegExp(`${coordinator.peerId} is not a member of job '${s.id}'`)),
  )
  // the daemon says why, as a lost tensor
  for (const reason of [`job 'another-job' is not run here`, `is not a member of job '${s.id}'`]) {
    const lost = await target.waitForLog(
      (l) => l.msg === 'tensor lost' && String((l.err as { message?: string }).message).includes(reason),
    )
    assert.deepEqual(
      [lost.from, lost.edge, (lost.err as { name: string }).name],
      [coordinator.peerId, 'act:x', 'TensorRefusedError'],
    )
  }
  assert.equal(logsOf(target, (l) => l.msg === 'tensor received' && l.edge === 'act:x').length, 0)
  // the job is as it was: its first step runs on every stage
  const first = await job.runStep()
  assert.ok(Number.isFinite(first.loss) && first.loss > 0, `loss ${first.loss}`)
  await job.stop()
})

test('a daemon with --job-timeout 2 drops a job whose coordinator went away', {
  timeout: 120_000,
}, async () => {
  const identity = scratchDir('atoll-mortal-')
  const mortal = await meshWithIdentity(identity)
  const worker = await daemon(['--allow', mortal.peerId, '--job-timeout', '2'])
  const s = { ...tiedGptSetting('gpt-orphan'), stages: [{ scopes: ['wte', 'wpe', 'h', 'ln_f', 'lm_head'] }] }
  const partition: Partition = partitionOf(s)
  await coordinatorOf(mortal, s, partition, peersOf([worker])).assign()
  // logged before the assignment is answered; no check of the gauge here, which the timeout may beat
  await worker.waitForLog((l) => l.msg === 'stage assigned' && l.job === s.id)
  const mortalId: PeerId = mortal.node.peerId
  await mortal.stop(0)
  meshes.splice(meshes.indexOf(mortal), 1)

  const dropped = await worker.waitForLog(
    (l) => l.msg === 'job dropped: its coordinator sent nothing for the job timeout',
    30_000,
  )
  assert.deepEqual([dropped.job, dropped.coordinator, dropped.silentSeconds], [s.id, mortalId.toString(), 2])
  assert.equal(dropped.level, 40, 'logged as a warning')
  assert.equal(await metric(worker, 'atoll_jobs_running'), 0)

  // the same coordinator, back: the worker has let the job go
  const back = await meshWithIdentity(identity)
  assert.equal(back.peerId, mortalId.toString())
  await assert.rejects(
    coordinatorOf(back, s, partition, peersOf([worker])).runStep(),
    new RegExp(`JobStateError: job '${s.id}' is not run here`),
  )
})
