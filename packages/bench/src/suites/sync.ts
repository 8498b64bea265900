/**
 * `atoll bench sync`: a GPT trained data-parallel on four `atoll peer` daemons joined by 100 Mbit/s
 * links, once with each algorithm of @atoll/sync and once without synchronisation, every figure a
 * ratio of runs made in the same invocation (sync-figures.ts). As root the daemons run in the
 * namespace testnet lan100 (`tc`-shaped links), else as processes on loopback that shape their own
 * links; the report says which. The coordinator is the pipeline suite's (pipeline-runner.ts).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadIdentity, peerIdOfKey } from '@atoll/net'
import { type LoopbackLayout, PeerProcesses, startLoopbackMesh } from '@atoll/testnet'
import type { BenchOptions, BenchReport, BenchSuite } from '../suite.ts'
import { writeModel } from './pipeline-jobs.ts'
import { here, runCoordinator } from './pipeline-mesh.ts'
import { namespacesUsable, runOverTestnet } from './pipeline-netns.ts'
import type { RunnerOutput, RunnerSpec } from './pipeline-spec.ts'
import { type SyncLinks, syncFigures } from './sync-figures.ts'
import { FULL_SIZE, QUICK_SIZE, SYNC_RUNS, type SyncSize, syncJob } from './sync-jobs.ts'

const MBIT = 100
const PEERS = ['p1', 'p2', 'p3', 'p4'] as const
const LAYOUT: LoopbackLayout = {
  sites: [{ name: 'lan', peers: [...PEERS] }],
  inside: { mbit: MBIT, delayMs: 0 },
  between: { mbit: MBIT, delayMs: 0 },
}
/**
 * Four daemons share this machine's two cores: each computes on one thread, its share (onnxruntime's
 * default of one thread per core oversubscribes them twice over, and a parallel loop then waits on
 * whichever thread the kernel took away to run another daemon's mesh traffic).
 */
const DAEMON_FLAGS = ['--threads', '1']
/** Link probes before the first plan: quick on loopback, each daemon's default second in namespaces. */
const LINK_WAIT_MS = { emulated: 60_000, netns: 120_000 }
const PROBE_SECONDS = 0.3

export interface SyncBenchOptions extends BenchOptions {
  size?: SyncSize
  /** keep the job files, checkpoints and peer logs here (default: a temporary folder, removed) */
  out?: string
  /** default: netns where this process can make namespaces, else emulated */
  links?: 'netns' | 'emulated'
}

export async function runSyncBench(options: SyncBenchOptions): Promise<BenchReport> {
  const size = options.size ?? (options.quick ? QUICK_SIZE : FULL_SIZE)
  const links = options.links ?? (namespacesUsable() ? 'netns' : 'emulated')
  const work = options.out ?? mkdtempSync(join(tmpdir(), 'atoll-bench-sync-'))
  mkdirSync(work, { recursive: true })
  try {
    const spec = (where: Pick<RunnerSpec, 'key' | 'listen' | 'membership'>) =>
      runnerSpec(size, work, where, LINK_WAIT_MS[links])
    const runs =
      links === 'netns'
        ? await runOverTestnet(
            {
              topology: 'lan100',
              order: PEERS,
              tag: 'sync',
              said: `testnet lan100 in network namespaces (root): 4 peers, each link ${MBIT} Mbit/s, shaped by tc; each daemon computes on one thread`,
              daemonFlags: DAEMON_FLAGS,
            },
            spec,
            options.log,
          )
        : await runOverLoopback(spec, work, options.log)
    return syncFigures(runs, { ...linkKind(links), size })
  } finally {
    if (options.out === undefined) rmSync(work, { recursive: true, force: true })
  }
}

function linkKind(kind: 'netns' | 'emulated'): Omit<SyncLinks, 'size'> {
  const why =
    kind === 'netns'
      ? "network namespaces shaped by tc htb on each peer's NIC, up and down"
      : 'each daemon shapes what it sends every other peer (--emulate-link): no shared NIC'
  return { kind, why, mbit: MBIT, replicas: PEERS.length }
}

/** The runs over four peer processes on loopback, each shaping what it sends the others. */
async function runOverLoopback(
  spec: (where: Pick<RunnerSpec, 'key' | 'listen' | 'membership'>) => RunnerSpec,
  work: string,
  log: (line: string) => void,
): Promise<RunnerOutput[]> {
  const processes = new PeerProcesses(join(work, 'peers'))
  try {
    const keyDir = join(work, 'keys', 'coordinator')
    const coordinator = peerIdOfKey(await loadIdentity(keyDir))
    log(`sync: 4 peer processes on loopback, every link ${MBIT} Mbit/s, emulated by the daemons`)
    const peers = await startLoopbackMesh(processes, {
      layout: LAYOUT,
      order: PEERS,
      root: join(work, 'keys'),
      flags: [
        '--device',
        'cpu',
        '--probe-seconds',
        String(PROBE_SECONDS),
        '--allow',
        coordinator,
        ...DAEMON_FLAGS,
      ],
      started: (p) => log(`sync:   ${p.name} pid ${p.pid}`),
    })
    const where = { key: keyDir, listen: '/ip4/127.0.0.1/tcp/0', membership: peers[0].addresses }
    return await runCoordinator(here, spec(where), log)
  } finally {
    const killed = await processes.stopAll()
    if (killed.length > 0) log(`sync: killed ${killed.join(', ')} (still running after SIGTERM)`)
  }
}

function runnerSpec(
  size: SyncSize,
  work: string,
  where: Pick<RunnerSpec, 'key' | 'listen' | 'membership'>,
  linkWaitMs: number,
): RunnerSpec {
  const model = writeModel(work, size.gpt)
  return {
    ...where,
    tag: 'sync',
    peers: PEERS.length,
    out: work,
    linkWaitMs,
    runs: SYNC_RUNS.map((run) => ({ label: run, job: syncJob(run, size, model, work) })),
  }
}

export const sync: BenchSuite = {
  name: 'sync',
  summary:
    'DreamDDP vs compute alone and S-SGD, its wait prediction, its loss vs Local SGD: 4 replicas at 100 Mbit/s',
  run: (options) => runSyncBench(options),
}
