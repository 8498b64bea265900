/**
 * `atoll train` as a user runs it: two `atoll peer` processes allowing the coordinator's id (from
 * `--show-id`), a job file, the outputs (summary.json, report.html, log.jsonl, the checkpoint), a run
 * resumed from that checkpoint, and the mistakes it must refuse before any peer is touched or with
 * the stage that does not fit.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { atoll, repoRoot, scratchDir } from './helpers/atoll.ts'
import { PeerProcess } from './helpers/peer-process.ts'

const work = scratchDir('atoll-train-')
const identity = join(work, 'coordinator')
const daemons: PeerProcess[] = []
let coordinatorId: string

/** `atoll train ARGS…` run to the end without blocking this process (the daemons' logs keep flowing). */
function train(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(repoRoot, 'packages/cli/src/main.ts'), 'train', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => {
    stdout += d
  })
  child.stderr.on('data', (d) => {
    stderr += d
  })
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })))
}

/** Two daemons that know each other and allow the coordinator; `extra` flags for both. */
async function pair(...extra: string[]): Promise<PeerProcess[]> {
  const flags = ['--probe-seconds', '0.2', '--allow', coordinatorId, ...extra]
  const first = await PeerProcess.start(flags)
  daemons.push(first)
  const second = await PeerProcess.start([...flags, '--bootstrap', first.addresses[0]])
  daemons.push(second)
  return [first, second]
}

/** `atoll train JOB` over the daemon `local` knows, its outputs in `out`. */
const trainOver = (local: PeerProcess, job: string, out: string, ...extra: string[]) =>
  train(job, '--data-dir', local.dataDir, '--identity', identity, '--out', out, ...extra)

function jobFile(name: string, lines: string[]): string {
  const path = join(work, `${name}.yaml`)
  writeFileSync(path, [`name: ${name}`, ...lines].join('\n'))
  return path
}

const gptJob = (steps: number) => [
  'model: { zoo: gpt2:tiny, seed: 1 }',
  'data: { dataset: moby-dick, seq: 16, batchSize: 4, seed: 3 }',
  `steps: ${steps}`,
  'optimizer: { kind: adamw }',
  'schedule: { kind: constant, lr: 0.003 }',
  'microBatches: 2',
  'checkpoint: { dir: ckpt, every: 3 }',
  'eval: { every: 3, batches: 2 }',
]

before(async () => {
  const shown = atoll('train', '--show-id', '--identity', identity)
  assert.equal(shown.status, 0, shown.stderr)
  coordinatorId = shown.stdout.trim()
  assert.equal(
    atoll('train', '--show-id', '--identity', identity).stdout.trim(),
    coordinatorId,
    'the key is kept',
  )
})

after(async () => {
  await Promise.all(daemons.map((d) => d.stop('SIGTERM')))
  for (const d of daemons) rmSync(d.dataDir, { recursive: true, force: true })
})

test("atoll train runs a job file over the local daemon's peers, then goes on from its checkpoint", {
  timeout: 240_000,
}, async () => {
  const [local] = await pair()
  const out = join(work, 'out')
  const first = await trainOver(local, jobFile('cli-job', gptJob(6)), out)
  assert.equal(first.code, 0, first.stderr)
  assert.match(first.stderr, new RegExp(`coordinator ${coordinatorId}`))
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))
  assert.equal(summary.steps, 6)
  assert.equal(summary.plan.stages.length, 2)
  assert.ok(Number.isFinite(summary.loss_last) && summary.loss_last < summary.loss_first, `${summary.losses}`)
  assert.deepEqual(
    summary.eval.map((e: { step: number }) => e.step),
    [3, 6],
  )
  assert.ok(readFileSync(join(out, 'report.html'), 'utf8').includes('<svg'))
  const events = readFileSync(join(out, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  assert.equal(events.filter((e) => e.kind === 'step').length, 6)
  const manifest = JSON.parse(readFileSync(join(work, 'ckpt', 'latest.json'), 'utf8'))
  assert.equal(manifest.step, 6)

  // the same job, three steps longer, from its checkpoint
  const more = await trainOver(
    local,
    jobFile('cli-job', gptJob(9)),
    join(work, 'more'),
    '--resume',
    join(work, 'ckpt'),
  )
  assert.equal(more.code, 0, more.stderr)
  const resumed = JSON.parse(readFileSync(join(work, 'more', 'summary.json'), 'utf8'))
  assert.deepEqual([resumed.start, resumed.steps], [6, 3])
  assert.equal(JSON.parse(readFileSync(join(work, 'ckpt', 'latest.json'), 'utf8')).step, 9)
})

test('mistakes are refused before any peer is touched, naming what is wrong', async () => {
  const none = atoll('train', '--identity', identity)
  assert.equal(none.status, 2)
  assert.match(none.stderr, /UsageError: atoll train takes one job file, given 0/)
  const bad = atoll(
    'train',
    jobFile('bad', ['model: gpt2:huge', ...gptJob(3).slice(1)]),
    '--identity',
    identity,
  )
  assert.equal(bad.status, 1)
  assert.match(bad.stderr, /JobFileError: .*bad\.yaml: model/)
  const typo = atoll('train', jobFile('typo', [...gptJob(3), 'stepz: 3']), '--identity', identity)
  assert.match(typo.stderr, /JobFileError: .*typo\.yaml: .*stepz/)
  const flag = atoll('train', jobFile('flag', gptJob(3)), '--link-wait', '-1', '--identity', identity)
  assert.equal(flag.status, 2)
  assert.match(flag.stderr, /--link-wait/)
  // atoll train's default output folder is ./atoll-<name>, in the folder it runs in (as this test's)
  for (const name of ['bad', 'typo', 'flag'])
    assert.ok(
      !existsSync(join(process.cwd(), `atoll-${name}`)),
      `nothing was written for the refused job ${name}`,
    )
})

test('a job that cannot fit in the memory the peers offer (--memory) is refused before any stage is sent', {
  timeout: 120_000,
}, async () => {
  const [small] = await pair('--memory', '1mib')
  const run = await trainOver(small, jobFile('too-big', gptJob(3)), join(work, 'too-big'))
  assert.equal(run.code, 1)
  assert.match(run.stderr, /(InfeasiblePlanError|InsufficientMemoryError): .*(does not fit|needs).*memory/)
  for (const d of daemons.slice(-2))
    assert.equal(d.logs.filter((l) => l.msg === 'stage assigned').length, 0, 'no stage was sent')
})
