/**
 * The `atoll testnet` CLI as the tests run it: in a process of its own, with the testnet's state in a
 * scratch directory of the test file's (ATOLL_TESTNET_DIR), never in /run.
 */
import assert from 'node:assert/strict'
import { type SpawnSyncReturns, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { TrainSummary } from '../../packages/peer/src/index.ts'
import { repoRoot, runScript, scratchDir } from './atoll.ts'

export interface TestnetCli {
  /** the state directory; it goes when the test file is done */
  dir: string
  atoll(...args: string[]): SpawnSyncReturns<string>
  /** the environment the CLI runs with */
  env: NodeJS.ProcessEnv
}

/**
 * `env` is added to the CLI's environment. When the test file is done, a testnet whose state is still
 * in the directory (one this CLI brought up: a test skipped for someone else's testnet has none) is
 * taken down, then the directory is removed.
 */
export function testnetCli(prefix: string, env: NodeJS.ProcessEnv = {}): TestnetCli {
  // registered before scratchDir's removal of the directory, and hooks run in the order registered
  after(() => {
    if (existsSync(join(cli.dir, 'state.json'))) cli.atoll('testnet', 'down')
  })
  const dir = scratchDir(prefix)
  const cliEnv = { ...process.env, ...env, ATOLL_TESTNET_DIR: dir }
  const cli: TestnetCli = {
    dir,
    atoll: (...args) => runScript('packages/cli/src/main.ts', args, cliEnv),
    env: cliEnv,
  }
  return cli
}

export interface KnownPeer {
  name?: string
  connected: boolean
  rttMs?: number
}

/**
 * Polls `atoll peers --json`, run inside `peer` by `testnet exec` (`cli` is how to start atoll there,
 * `dataDir` the daemon's directory there), until `settled` returns a value; fails with the last answer.
 */
export async function pollPeers<T>(
  { atoll }: TestnetCli,
  peer: string,
  { cli, dataDir }: { cli: string[]; dataDir: string },
  settled: (peers: KnownPeer[]) => T | undefined,
  timeoutMs: number,
): Promise<T> {
  const until = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < until) {
    const r = atoll('testnet', 'exec', peer, '--', ...cli, 'peers', '--data-dir', dataDir, '--json')
    last = r.stdout + r.stderr
    if (r.status === 0) {
      const found = settled((JSON.parse(r.stdout) as { peers: KnownPeer[] }).peers)
      if (found !== undefined) return found
    }
    await sleep(1000)
  }
  return assert.fail(`${peer} did not settle within ${timeoutMs / 1000} s: ${last.slice(-1500)}`)
}

/** Steps of the testnets' job: enough for the loss to fall, few enough for CI. */
const JOB_STEPS = 6
/**
 * The testnets' job: placed by OP-Fence, AdaTopK on the fences. gpt2:mini at 32 tokens rather than
 * gpt2:tiny: on geo3, OP-Fence gives tiny's last site nothing but the loss, and one of its stages
 * only reshapes the targets: a stage with an empty backward graph, which onnxruntime cannot load.
 */
const JOB = `name: testnet-job
model: { zoo: gpt2:mini, seed: 0 }
data: { dataset: moby-dick, tokenizer: bytes, batchSize: 8, seq: 32 }
steps: ${JOB_STEPS}
optimizer: { kind: adamw }
schedule: { kind: constant, lr: 0.003 }
placement: fence
compression: adatopk
checkpoint: { every: ${JOB_STEPS} }
eval: { every: 0, batches: 2 }
`
/**
 * How long `atoll train` waits for the daemons to have probed every link: bounded, and long enough
 * for geo3's start-up probes (about a minute and a half, longer while a measurement held the floor).
 */
const LINK_WAIT_S = 180
/** The whole exec, link wait included: past this the job hangs, and `down` ends what it left. */
const TRAIN_TIMEOUT_MS = (LINK_WAIT_S + 180) * 1000

/**
 * `atoll testnet exec PEER -- atoll train JOB.yaml` with no flag but the output folder and the link
 * wait: the job file and what the job writes are in the testnet's shared folder, the same path on
 * this machine and inside the peer. The run must end well: every step done, the loss finite and
 * falling; its summary is returned for the caller's checks.
 */
export function trainOnTestnet(cli: TestnetCli, peer: string): TrainSummary {
  const shared = join(cli.dir, 'shared')
  const job = join(shared, 'job.yaml')
  const out = join(shared, 'train-out')
  writeFileSync(job, JOB)
  const train = ['atoll', 'train', job, '--out', out, '--link-wait', String(LINK_WAIT_S)]
  const run = spawnSync(
    process.execPath,
    [join(repoRoot, 'packages/cli/src/main.ts'), 'testnet', 'exec', peer, '--', ...train],
    { encoding: 'utf8', env: cli.env, timeout: TRAIN_TIMEOUT_MS },
  )
  assert.equal(run.status, 0, `atoll train in ${peer}: ${run.signal ?? ''}\n${run.stderr.slice(-4000)}`)
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as TrainSummary
  assert.equal(summary.steps, JOB_STEPS)
  assert.ok(summary.losses.every(Number.isFinite), `losses ${summary.losses}`)
  assert.ok(summary.loss_last < summary.loss_first, `losses ${summary.losses}`)
  return summary
}

/** The peers of each of a summary's plan clusters, by name, sorted. */
export function clustersByName(summary: TrainSummary): string[][] {
  const name = new Map(summary.peers.map((p) => [p.id, p.name]))
  return summary.plan.clusters.map((c) => c.peers.map((id) => name.get(id) ?? id).sort()).sort()
}
